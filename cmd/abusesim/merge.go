package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/abusesim/abusesim/target/harness"
)

func newMergeCmd(stdout io.Writer) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "merge DIR...",
		Short: "Combine the results of shards of one run exactly",
		Long: `Merge reads the result folders of the shards of one run (run or attack with
--shard i/N) and writes one result to --out: counts added, latency
percentiles computed from the shards' HDR histograms added together (never
from averaged percentiles), and the per-second interval logs merged.`,
		Example: `  abusesim attack --url http://127.0.0.1:8080/ --rate 3000 --duration 30s --shard 1/3 --out r1
  abusesim attack --url http://127.0.0.1:8080/ --rate 3000 --duration 30s --shard 2/3 --out r2
  abusesim attack --url http://127.0.0.1:8080/ --rate 3000 --duration 30s --shard 3/3 --out r3
  abusesim merge r1 r2 r3 --out merged`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usagef("--out is required")
			}
			sum, err := harness.Merge(args, out)
			if err != nil {
				return err
			}
			printSummary(stdout, sum)
			fmt.Fprintf(stdout, "\nmerged %d result folders into %s\n", len(args), out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "folder for the merged results (required)")
	return cmd
}
