// Package capacity models DynamoDB's capacity accounting and enforces it in
// front of a local DynamoDB engine.
//
// The package has four parts:
//
//   - the unit model: [ItemSize] measures an item on DynamoDB's JSON wire
//     form, [ReadUnits] and [WriteUnits] turn sizes into capacity units by
//     AWS's published rules;
//   - the limiter: a [Bucket] holds one table's provisioned read or write
//     throughput with a 300-second burst pool, driven by explicit instants so
//     it can be tested with fixed times;
//   - the endpoint: an [Endpoint] is an http.Handler speaking DynamoDB JSON
//     1.0 that meters every request, throttles it with DynamoDB's own
//     ProvisionedThroughputExceededException, forwards it to a backend engine
//     (embedded minidyn by default) and records per-second [Sample]s, which a
//     [Monitor] collects through the [Source] interface;
//   - pricing: [Prices] turns a run's [Usage] into on-demand and provisioned
//     [Cost] figures.
//
// Sources for the rules are named where each rule lives. Capacity figures keep
// DynamoDB's terms: RCU and WCU for provisioned capacity units, RRU and WRU for
// on-demand request units (a consumed read unit is one RRU, a consumed write
// unit one WRU).
package capacity
