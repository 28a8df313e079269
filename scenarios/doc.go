// Package scenarios is abusesim's scenario language: the types a scenario
// file describes, its YAML loading and validation, and the built-in scenario
// files embedded in the binary.
//
// A scenario names one DynamoDB table (its billing mode, provisioned
// capacity and seeded items), the protection profiles to compare, and the
// traffic classes that play against the API under test: the executor (open
// arrival-rate or closed concurrency model), who sends (loopback source
// pools, spoofed X-Forwarded-For, API keys, user agents), how fast (a
// constant rate, ramps, steps, spikes and pauses, with uniform or Poisson
// arrivals), what (weighted request templates with headers), which keys
// (uniform, zipf, sequential, hot-key, missing), how the client behaves
// (keep-alive, connection caps, HTTP/2, retries) and the thresholds that
// make a run fail. docs/scenarios.md is the reference; [Schema] is the
// JSON Schema, generated from the same doc types the decoder takes its
// field names from.
//
// Parse and Load check the whole file and report every problem as an
// *Error naming file:line:column and the field path, such as
// "classes[1].rate"; sequence indexes in field paths count from 0. A
// missing field is reported where the mapping that lacks it begins. Several
// problems come back joined with errors.Join, in file order; errors.As
// finds the first.
package scenarios
