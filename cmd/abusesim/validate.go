package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/abusesim/abusesim/scenarios"
	"github.com/abusesim/abusesim/target/harness"
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
with the nearest valid name for a misspelt field. Profiles are resolved as
run resolves them: an unknown base profile, or overrides the reference
server's profile loader refuses, are problems. It sends no traffic.
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
		sc, err := scenarios.Load(f)
		if err == nil {
			err = checkProfiles(sc)
		}
		if err != nil {
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

// checkProfiles resolves each of the scenario's profiles as run will, so
// an unknown base or a refused override is reported at its place in the
// file rather than when the run starts.
func checkProfiles(sc *scenarios.Scenario) error {
	var errs []error
	for _, spec := range sc.ProfileSpecs {
		one := *sc
		one.Profiles = []string{spec.Name}
		// harness reports a spec's problem at the spec, in the words a
		// user can act on, as run does.
		if _, err := harness.Profiles(&one, nil); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
