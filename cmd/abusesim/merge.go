package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/abusesim/abusesim/target/harness"
)

func newMergeCmd(stdout, stderr io.Writer) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "merge DIR...",
		Short: "Combine the results of shards of one run exactly",
		Long: `Merge reads the result folders of the shards of one run (run or attack with
--shard i/N) and writes one result to --out: counts added, latency
percentiles computed from the shards' HDR histograms added together (never
from averaged percentiles), consumed capacity added and priced again as one
run, and the per-second interval logs and capacity series merged. The merged
folder can itself be merged.

Merge refuses the same folder or the same shard twice, and an --out that is
or lies inside an input. A set missing some shards is merged with a warning;
its summary.json then names the shards it holds ("shard": "1,2/3").`,
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
			if errors.Is(err, harness.ErrBadMerge) {
				return usagef("%w", err)
			} else if err != nil {
				return err
			}
			printSummary(stdout, sum)
			fmt.Fprintf(stdout, "\nmerged %d result folders into %s\n", len(args), out)
			if sum.Shard != "" {
				fmt.Fprintf(stderr, "abusesim: warning: the merge holds only shards %s; "+
					"add the missing shards' folders for the whole run\n", sum.Shard)
			}
			// The scenario's thresholds, checked against the merged whole:
			// exit 3 when one fails, as run does.
			return checkThresholds(stdout, sum)
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "folder for the merged results (required)")
	return cmd
}
