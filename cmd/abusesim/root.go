package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// execute runs the CLI with args and returns the process exit code. The
// first SIGINT or SIGTERM cancels the command's context so it can stop
// cleanly and write partial results; a second one exits at once.
func execute(args []string, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	msg := stopMessage(root, args)
	go func() {
		<-sigs
		fmt.Fprintln(stderr, msg)
		cancel()
		<-sigs
		os.Exit(exitInterrupted)
	}()

	err := root.ExecuteContext(ctx)
	return exitCode(ctx, stderr, err)
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "abusesim",
		Short: "Measure what abuse of a DynamoDB-backed API costs, and whether its protections hold",
		Long: `abusesim replays abuse scenarios (scrapers, cache busters, write floods)
against a DynamoDB-backed API while a capacity monitor samples the table's
consumed read and write capacity and throttle events. The headline run
compares an unprotected reference server with protected ones under the same
abuse and reports cost and latency for each.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newRunCmd(stdout, stderr), newVersionCmd(stdout))
	root.AddCommand(newValidateCmd(stdout, stderr), newScenariosCmd(stdout))
	root.AddCommand(newAttackCmd(stdout, stderr), newMergeCmd(stdout, stderr))
	root.AddCommand(newDDBLocalCmd(stdout, stderr))
	root.AddCommand(newServeCmd(stdout, stderr))
	return root
}

// stopMessage is what the first signal prints for the command args name:
// only run and attack have partial results to write.
func stopMessage(root *cobra.Command, args []string) string {
	if c, _, err := root.Find(args); err == nil && (c.Name() == "run" || c.Name() == "attack") {
		return "abusesim: stopping; writing partial results (press Ctrl-C again to quit at once)"
	}
	return "abusesim: stopping (press Ctrl-C again to quit at once)"
}
