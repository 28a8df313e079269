// Package charts draws a run's results as PNG charts with gonum/plot:
// latency percentiles per traffic class, consumed capacity against the
// provisioned throughput with throttle events, and what each profile cost.
//
// The input is plain series (Profile and its parts), so the package depends
// on no other abusesim package; the harness converts its results. Every
// chart has one panel per profile, in the order given, so profiles can be
// compared side by side. A profile or series without data is drawn as a
// panel saying "no data" rather than failing; values that are not finite
// (a second in which nothing was measured) are left out of lines.
//
// Errors say which chart and which profile they concern.
package charts
