package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/abusesim/abusesim/scenarios"
)

type validateOptions struct {
	files          []string
	stdout, stderr io.Writer
}

func newValidateCmd(stdout, stderr io.Writer) *cobra.Command {
	opts := &validateOptions{stdout: stdout, stderr: stderr}
	return &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check scenario files and report every problem with file:line:column",
		Long: `Validate parses each scenario FILE (or built-in name) as run would and
prints "FILE: ok" or one line per problem, as file:line:column: field: message,
with the nearest valid name for a misspelt field. It sends no traffic.
It exits 0 when every file is valid and 1 otherwise.`,
		Example: `  abusesim validate scenarios/*.yaml
  abusesim validate my-scenario.yaml cost-amplification`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.files = args
			return runValidate(opts)
		},
	}
}

func runValidate(opts *validateOptions) error {
	bad := 0
	var errs []error
	for _, f := range opts.files {
		if _, err := scenarios.Load(f); err != nil {
			bad++
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(opts.stdout, "%s: ok\n", f)
	}
	if bad > 0 {
		errs = append(errs, fmt.Errorf("%d of %d files are invalid", bad, len(opts.files)))
		return errors.Join(errs...)
	}
	return nil
}
