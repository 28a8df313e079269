package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// checkRawPath refuses a --raw file that would overwrite one of the run's
// inputs or land among its results, which it would then corrupt or be
// overwritten by: the scenario file itself, or a path inside --out.
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
