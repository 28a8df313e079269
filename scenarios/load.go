package scenarios

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// builtins holds the scenario files shipped in the binary.
//
//go:embed *.yaml
var builtins embed.FS

// BuiltinPrefix starts Scenario.File for a built-in scenario, as in
// "builtin/cost-amplification.yaml".
const BuiltinPrefix = "builtin/"

// Load reads the scenario at pathOrName when that is a file, and otherwise
// the built-in scenario of that name: its base name without ".yaml", so
// "scenarios/cost-amplification.yaml" finds the built-in even where no
// such file exists. An unknown name is an error that lists the built-ins.
func Load(pathOrName string) (*Scenario, error) {
	if info, err := os.Stat(pathOrName); err == nil && info.Mode().IsRegular() {
		data, err := os.ReadFile(pathOrName)
		if err != nil {
			return nil, fmt.Errorf("load scenario: %w", err)
		}
		return Parse(pathOrName, data)
	}

	name := strings.TrimSuffix(filepath.Base(pathOrName), ".yaml")
	data, err := builtins.ReadFile(name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("load scenario %q: no such file and no built-in of that name "+
			"(built-ins: %s)", pathOrName, strings.Join(Builtins(), ", "))
	}
	return Parse(BuiltinPrefix+name+".yaml", data)
}

// Builtins lists the names of the built-in scenarios, sorted.
func Builtins() []string {
	entries, err := fs.ReadDir(builtins, ".")
	if err != nil {
		// The embedded folder always exists; failing to read it is a build bug.
		panic(fmt.Sprintf("scenarios: read embedded scenarios: %v", err))
	}

	var names []string
	for _, e := range entries {
		if path.Ext(e.Name()) == ".yaml" {
			names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
		}
	}
	slices.Sort(names)
	return names
}

// BuiltinSource returns the YAML text of the built-in scenario name (with
// or without ".yaml").
func BuiltinSource(name string) ([]byte, error) {
	name = strings.TrimSuffix(name, ".yaml")
	data, err := builtins.ReadFile(name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("no built-in scenario %q (built-ins: %s)", name, strings.Join(Builtins(), ", "))
	}
	return data, nil
}
