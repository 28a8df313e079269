package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/abusesim/abusesim/scenarios"
	"github.com/abusesim/abusesim/target"
	"github.com/abusesim/abusesim/target/harness"
)

type runOptions struct {
	scenario string
	out      string
	duration time.Duration
	profiles []string
	seed     int64
	seedSet  bool
	shard    string
	raw      string

	stdout, stderr io.Writer
	now            func() time.Time
}

func newRunCmd(stdout, stderr io.Writer) *cobra.Command {
	opts := &runOptions{stdout: stdout, stderr: stderr, now: time.Now}
	cmd := &cobra.Command{
		Use:   "run SCENARIO",
		Short: "Replay a scenario against each profile and report cost and latency",
		Long: `Run replays SCENARIO (a YAML file, or the name of a built-in scenario)
against each profile in turn, each on a fresh embedded stack: a local DynamoDB
that meters and throttles like AWS, with the reference server in front of it.
It writes summary.json, per-profile CSV files and PNG charts to --out and
prints a side-by-side table of the profiles.`,
		Example: `  # The headline comparison, with the built-in scenario
  abusesim run scenarios/cost-amplification.yaml

  # A shorter run of only the unprotected profile, into a chosen folder
  abusesim run cost-amplification --profiles unprotected --duration 10s --out /tmp/ca

  # The same traffic with another random seed
  abusesim run cost-amplification --seed 7`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.scenario = args[0]
			opts.seedSet = cmd.Flags().Changed("seed")
			if cmd.Flags().Changed("duration") && opts.duration <= 0 {
				return usagef("--duration must be positive, got %s", opts.duration)
			}
			for _, p := range opts.profiles {
				if strings.TrimSpace(p) == "" {
					return usagef("--profiles has an empty name")
				}
			}
			return runRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.out, "out", "", "output folder (default results/<UTC time>-<scenario name>/)")
	f.DurationVar(&opts.duration, "duration", 0, "traffic duration per profile (default: the scenario's)")
	f.StringSliceVar(&opts.profiles, "profiles", nil, "profiles to run, in order (default: the scenario's, e.g. unprotected,protected)")
	f.Int64Var(&opts.seed, "seed", 0, "random seed for keys and ids (default: the scenario's)")
	f.StringVar(&opts.raw, "raw", "", "also stream every request to this CSV file")
	f.StringVar(&opts.shard, "shard", "", "run slice i of N of the traffic (i/N, e.g. 2/3); combine with abusesim merge")
	return cmd
}

func runRun(ctx context.Context, opts *runOptions) error {
	sc, err := scenarios.Load(opts.scenario)
	if err != nil {
		return err
	}
	if fromBuiltin(opts.scenario, sc) {
		fmt.Fprintf(opts.stderr, "abusesim: note: %s is not a file; using the built-in scenario %s\n",
			opts.scenario, sc.Name)
	}
	profiles, err := harness.Profiles(sc, opts.profiles)
	if errors.Is(err, harness.ErrBadProfiles) {
		return usagef("--profiles: %w", err)
	} else if err != nil {
		return err
	}
	if opts.duration > 0 {
		if err := sc.SetDuration(opts.duration); err != nil {
			return usagef("--duration: %w", err)
		}
	}
	if opts.seedSet {
		sc.Seed = opts.seed
	}
	if opts.out == "" {
		stamp := opts.now().UTC().Format("20060102T150405Z")
		opts.out = freshDir(filepath.Join("results", stamp+"-"+sc.Name))
	}
	if err := checkWritable(opts.out); err != nil {
		return usagef("--out: %w", err)
	}

	hopts := harness.Options{
		Scenario: sc,
		Profiles: opts.profiles,
		OutDir:   opts.out,
		Logger:   slog.New(newLineHandler(opts.stderr)),
		Progress: &target.Progress{},
	}
	if opts.shard != "" {
		if hopts.Shard, err = harness.ParseShard(opts.shard); err != nil {
			return usagef("--shard: %w", err)
		}
	}
	if opts.raw != "" {
		f, err := openRaw(opts.raw, opts.out, opts.scenario)
		if err != nil {
			return err
		}
		defer f.Close()
		hopts.Raw = f
	}
	total := sc.Duration * time.Duration(len(profiles))
	stop := startProgress(opts.stderr, hopts.Progress, total, opts.now)
	sum, err := harness.Run(ctx, hopts)
	stop()
	if sum != nil && len(sum.Profiles) > 0 {
		printSummary(opts.stdout, sum)
	}
	if err != nil {
		return err
	}
	if sum.Interrupted && len(sum.Profiles) == 0 {
		fmt.Fprintf(opts.stderr, "abusesim: interrupted before any profile finished; %s records "+
			"the interruption and holds no results\n", filepath.Join(opts.out, "summary.json"))
		return nil
	}
	fmt.Fprintf(opts.stdout, "\nresults: %s (summary.json, latency.png, capacity.png, cost.png)\n", opts.out)
	if sum.Interrupted {
		fmt.Fprintln(opts.stderr, "abusesim: interrupted; the results above are partial")
	}
	return checkThresholds(opts.stdout, sum)
}

// fromBuiltin reports whether Load resolved arg to a built-in although arg
// looks like a path: worth a note, since the user may have mistyped it.
func fromBuiltin(arg string, sc *scenarios.Scenario) bool {
	if !strings.HasPrefix(sc.File, scenarios.BuiltinPrefix) || !strings.ContainsAny(arg, `/\.`) {
		return false
	}
	_, err := os.Stat(arg)
	return err != nil
}

// freshDir returns dir, or dir-2, dir-3, … when dir exists, so two runs
// started in the same second do not mix their files.
func freshDir(dir string) string {
	name := dir
	for i := 2; ; i++ {
		if _, err := os.Lstat(name); errors.Is(err, os.ErrNotExist) {
			return name
		}
		name = fmt.Sprintf("%s-%d", dir, i)
	}
}

// checkWritable makes sure results can be written to dir before minutes
// of traffic are spent: it creates dir and a file in it.
func checkWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".abusesim-write-check-*")
	if err != nil {
		return fmt.Errorf("cannot write in %s: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}
