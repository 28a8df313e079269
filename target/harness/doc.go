// Package harness runs a scenario end to end: for each profile, one after
// the other, it starts a fresh embedded stack (a local DynamoDB endpoint that
// meters and throttles, and the reference server in front of it), replays the
// scenario's traffic with the load generator while a capacity monitor samples
// the table, and gathers the results into a Summary.
//
// The harness writes result files only through WriteResults; it never prints.
package harness
