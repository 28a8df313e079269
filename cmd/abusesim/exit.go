package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Exit codes, documented in the README.
const (
	exitOK          = 0
	exitError       = 1 // the run failed: bad scenario, a server would not start, a write failed
	exitUsage       = 2 // bad command line
	exitThresholds  = 3 // the run finished but a scenario threshold failed
	exitInterrupted = 130
)

// thresholdsError marks a run whose thresholds failed.
type thresholdsError struct{ err error }

func (e thresholdsError) Error() string { return e.err.Error() }
func (e thresholdsError) Unwrap() error { return e.err }

// usageError marks a mistake on the command line.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// exitCode prints err once and maps it to an exit code. Each problem is one
// line; an error that joins several (a scenario file with three mistakes)
// prints a line for each.
func exitCode(ctx context.Context, stderr io.Writer, err error) int {
	if err == nil {
		if ctx.Err() != nil {
			return exitInterrupted
		}
		return exitOK
	}
	msg := strings.TrimSpace(err.Error())
	for _, line := range strings.Split(msg, "\n") {
		fmt.Fprintf(stderr, "abusesim: %s\n", line)
	}

	var ue usageError
	var te thresholdsError
	switch {
	case errors.As(err, &ue), isCobraUsage(msg):
		return exitUsage
	case errors.As(err, &te):
		return exitThresholds
	case ctx.Err() != nil:
		return exitInterrupted
	default:
		return exitError
	}
}

// isCobraUsage recognises the flag and argument errors cobra returns as
// plain errors.
func isCobraUsage(msg string) bool {
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag",
		"flag needs an argument", "invalid argument", "accepts ", "requires at least"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}
