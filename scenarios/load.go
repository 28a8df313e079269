package scenarios

import (
	"embed"
	"fmt"
	"io"
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
// A directory is an error too, unless it is a bare name (no separator)
// that a built-in has, as a results folder named after one may be. A file
// larger than MaxFileBytes is refused without reading it all.
func Load(pathOrName string) (*Scenario, error) {
	name := strings.TrimSuffix(filepath.Base(pathOrName), ".yaml")
	info, err := os.Stat(pathOrName)
	switch {
	case err != nil: // no such file: look for a built-in
	case !info.IsDir():
		data, err := readFile(pathOrName)
		if err != nil {
			return nil, fmt.Errorf("load scenario: %w", err)
		}
		return Parse(pathOrName, data)
	case strings.ContainsRune(pathOrName, filepath.Separator) || !slices.Contains(Builtins(), name):
		return nil, fmt.Errorf("load scenario %q: it is a directory; give a scenario file "+
			"such as %s", pathOrName, filepath.Join(pathOrName, "*.yaml"))
	}

	data, err := BuiltinSource(name)
	if err != nil {
		return nil, fmt.Errorf("load scenario %q: no such file and no built-in of that name "+
			"(built-ins: %s)", pathOrName, strings.Join(Builtins(), ", "))
	}
	return Parse(BuiltinPrefix+name+".yaml", data)
}

// readFile reads at most MaxFileBytes of name, and fails if there is more.
func readFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileBytes {
		return nil, sizeError(name)
	}
	return data, nil
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
