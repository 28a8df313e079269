package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/abusesim/abusesim/scenarios"
)

func newScenariosCmd(stdout io.Writer) *cobra.Command {
	var schema bool
	cmd := &cobra.Command{
		Use:   "scenarios [NAME]",
		Short: "List the built-in scenarios, or print one",
		Long: `Scenarios lists the built-in scenarios with their descriptions. Given a
NAME it prints that scenario's YAML, a starting point for your own:
abusesim scenarios cost-amplification > mine.yaml. With --schema it prints
the JSON Schema of scenario files, for editors.`,
		Example: `  abusesim scenarios
  abusesim scenarios cost-amplification > mine.yaml
  abusesim scenarios --schema > scenario.schema.json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case schema:
				data, err := scenarios.Schema()
				if err != nil {
					return err
				}
				_, err = stdout.Write(data)
				return err
			case len(args) == 1:
				data, err := scenarios.BuiltinSource(args[0])
				if err != nil {
					return usagef("%w", err)
				}
				_, err = stdout.Write(data)
				return err
			}
			return listScenarios(stdout)
		},
	}
	cmd.Flags().BoolVar(&schema, "schema", false, "print the JSON Schema of scenario files")
	return cmd
}

func listScenarios(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "name\tduration\tclasses\tdescription")
	for _, name := range scenarios.Builtins() {
		sc, err := scenarios.Load(name)
		if err != nil {
			return fmt.Errorf("built-in scenario %s: %w", name, err)
		}
		fmt.Fprintf(tw, "%s\t%v\t%d\t%s\n", sc.Name, sc.Duration, len(sc.Classes), sc.Description)
	}
	return tw.Flush()
}
