// Package scenarios is abusesim's scenario language: the types a scenario
// file describes, its YAML loading and validation, and the built-in scenario
// files embedded in the binary.
//
// A scenario names one DynamoDB table (its billing mode, provisioned
// capacity and seeded items), the protection profiles to compare, and the
// traffic classes that play against the API under test: who sends (a
// loopback source address), how fast (a constant rate, a linear ramp or
// phases), what (weighted request templates) and which keys (a
// distribution over the seeded items, mixed with ids that do not exist).
//
// Parse and Load check the whole file and report every problem as an
// *Error naming file:line:column and the field path, such as
// "classes[1].rate"; sequence indexes in field paths count from 0. A
// missing field is reported where the mapping that lacks it begins. Several
// problems come back joined with errors.Join, in file order; errors.As
// finds the first.
package scenarios
