package main

import (
	"os"
	"testing"
)

// skipOrFailInCI skips a test whose external server is missing, with a
// message saying how to install it; under CI=true, where .ci/run installs
// it, the absence is a failure rather than a silent skip.
func skipOrFailInCI(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true but "+format, args...)
	}
	t.Skipf(format, args...)
}
