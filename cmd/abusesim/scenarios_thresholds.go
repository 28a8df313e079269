package main

import (
	"fmt"
	"io"

	"github.com/abusesim/abusesim/target/harness"
)

// checkThresholds prints the scenario's threshold results and returns a
// thresholdsError when any failed.
func checkThresholds(w io.Writer, sum *harness.Summary) error {
	if sum.ThresholdsPassed == nil {
		return nil
	}
	fmt.Fprintln(w, "\nthresholds:")
	for _, t := range sum.Thresholds {
		fmt.Fprintf(w, "  %s\n", t)
	}
	failed := sum.FailedThresholds()
	if len(failed) == 0 {
		return nil
	}
	return thresholdsError{fmt.Errorf("%d of %d thresholds failed; see above", len(failed), len(sum.Thresholds))}
}
