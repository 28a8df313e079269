package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/abusesim/abusesim/target"
)

// openRaw checks a --raw path (checkRawPath) and creates the file; its
// errors are usage errors naming the flag.
func openRaw(raw, out string, inputs ...string) (*os.File, error) {
	if err := checkRawPath(raw, out, inputs...); err != nil {
		return nil, usagef("--raw: %w", err)
	}
	f, err := os.Create(raw)
	if err != nil {
		return nil, usagef("--raw: %w", err)
	}
	return f, nil
}

// isRawCSV reports whether the file at path starts with target.RawHeader,
// as a file an earlier --raw wrote does.
func isRawCSV(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, len(target.RawHeader))
	n, _ := io.ReadFull(f, head)
	return string(head[:n]) == target.RawHeader
}

// checkRawPath refuses a --raw file that would overwrite anything but an
// earlier raw CSV (a scenario file, say, even one of the built-ins' sources
// when the run names the built-in), or land among the run's results: the
// scenario file itself, or a path inside --out.
func checkRawPath(raw, out string, inputs ...string) error {
	rawAbs, err := filepath.Abs(raw)
	if err != nil {
		return err
	}
	if info, err := os.Stat(raw); err == nil {
		for _, in := range inputs {
			if in == "" {
				continue
			}
			if inInfo, err := os.Stat(in); err == nil && os.SameFile(info, inInfo) {
				return fmt.Errorf("%s is the scenario file; give the raw CSV its own name", raw)
			}
		}
		// A pipe or a device (/dev/stdout) is written to, not replaced.
		if info.Mode().IsRegular() && info.Size() > 0 && !isRawCSV(raw) {
			return fmt.Errorf("%s exists and is not an earlier raw CSV; give a new name "+
				"(an earlier --raw file may be overwritten)", raw)
		}
	}
	if out != "" {
		outAbs, err := filepath.Abs(out)
		if err != nil {
			return err
		}
		if rel, err := filepath.Rel(outAbs, rawAbs); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return fmt.Errorf("%s is inside the output folder %s, whose files the run writes; put it elsewhere", raw, out)
		}
	}
	return nil
}
