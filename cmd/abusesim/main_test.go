package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = execute(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCLIErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: bad\nduration: 5s\nclases: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	badProfile := filepath.Join(dir, "profiles.yaml")
	withProfiles := strings.Replace(builtin(t, "cost-amplification"), "profiles: [unprotected, protected]",
		"profiles:\n  - unprotected\n  - turbo", 1)
	turboLine := 1 + slices.Index(strings.Split(withProfiles, "\n"), "  - turbo")
	if err := os.WriteFile(badProfile, []byte(withProfiles), 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no scenario", []string{"run"}, exitUsage, "accepts 1 arg"},
		{"unknown flag", []string{"run", "x", "--nope"}, exitUsage, "unknown flag: --nope"},
		{"bad duration", []string{"run", "x", "--duration", "soon"}, exitUsage, "invalid argument"},
		{"unknown scenario", []string{"run", "no-such-scenario"}, exitError, "cost-amplification"},
		{"bad file names its line", []string{"run", bad}, exitError, "bad.yaml:3:1"},
		{"unknown profile", []string{"run", "cost-amplification", "--profiles", "nosuch", "--out", dir},
			exitUsage, `--profiles: bad profile list: refserver: profile "nosuch"`},
		{"repeated profile", []string{"run", "cost-amplification", "--profiles", "protected,protected"},
			exitUsage, `"protected" is listed twice`},
		{"zero duration", []string{"run", "cost-amplification", "--duration", "0s"},
			exitUsage, "--duration must be positive"},
		{"unknown profile in the file", []string{"run", badProfile}, exitError,
			fmt.Sprintf("profiles.yaml:%d:5: profiles[1]: profile \"turbo\" is not a built-in profile", turboLine)},
		{"out is a file", []string{"run", "cost-amplification", "--out", bad}, exitUsage, "--out: mkdir"},
		{"unknown command", []string{"attack-everyone"}, exitUsage, "unknown command"},
		{"every problem reported", []string{"run", bad}, exitError, `did you mean "classes"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code: got %d, want %d (stderr %q)", code, tt.wantCode, stderr)
			}
			if !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("stderr: got %q, want it to contain %q", stderr, tt.wantErr)
			}
			for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
				if !strings.HasPrefix(line, "abusesim: ") {
					t.Errorf("stderr line %q does not start with \"abusesim: \"", line)
				}
			}
		})
	}
}

func TestCLIHelpHasExamples(t *testing.T) {
	code, stdout, _ := runCLI(t, "run", "--help")
	if code != exitOK {
		t.Fatalf("exit code %d", code)
	}
	for _, want := range []string{"Examples:", "abusesim run scenarios/cost-amplification.yaml", "--profiles", "--seed"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("run --help lacks %q", want)
		}
	}
}

func TestCLIVersion(t *testing.T) {
	code, stdout, _ := runCLI(t, "version")
	if code != exitOK || !strings.HasPrefix(stdout, "abusesim ") {
		t.Errorf("version: code %d, output %q", code, stdout)
	}
}

func TestCLIRunWritesResults(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "run", "cost-amplification",
		"--profiles", "protected", "--duration", "1s", "--out", out, "--seed", "9")
	if code != exitOK {
		t.Fatalf("exit code %d, stderr %q", code, stderr)
	}
	for _, want := range []string{"protected", "legit", "attacker", "RCU consumed", "results: " + out} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	data, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"seed": 9`) {
		t.Errorf("summary.json does not record --seed 9")
	}
}

// builtin returns the text of a built-in scenario.
func builtin(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "scenarios", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestFreshDirNeverReusesAFolder(t *testing.T) {
	base := filepath.Join(t.TempDir(), "20261204T000000Z-s")
	if got := freshDir(base); got != base {
		t.Fatalf("free name: got %s, want %s", got, base)
	}
	for i, want := range []string{base + "-2", base + "-3"} {
		if err := os.MkdirAll(freshDir(base), 0o755); err != nil {
			t.Fatal(err)
		}
		if got := freshDir(base); got != want {
			t.Errorf("after %d taken: got %s, want %s", i+1, got, want)
		}
	}
}
