//go:build race

package capacity

// raceEnabled reports whether the tests run under the race detector, which
// slows and reorders goroutines enough to change timing-dependent figures.
const raceEnabled = true
