// Package capacity models DynamoDB's capacity accounting and enforces it in
// front of a local DynamoDB engine.
//
// The package has five parts:
//
//   - the unit model: [ItemSize] measures an item on DynamoDB's JSON wire
//     form, [ReadUnits] and [WriteUnits] turn sizes into capacity units by
//     AWS's published rules, and secondary index writes are sized by the
//     index entries they change;
//   - the limits: a [Bucket] holds a table's provisioned read or write
//     throughput with a 300-second burst pool; partitions cap a hot key at
//     [PartitionReadUnits] or [PartitionWriteUnits] or a linear combination
//     of the two; on-demand tables serve twice their previous peak, within
//     OnDemandThroughput and the [TableQuotaUnits] quota; batches are
//     admitted entry by entry; every limit takes explicit instants, so it
//     is tested with fixed times;
//   - the endpoint: an [Endpoint] is an http.Handler speaking DynamoDB JSON
//     1.0 that meters every call, throttles it with DynamoDB's own errors
//     (ProvisionedThroughputExceededException or ThrottlingException with
//     their throttling reasons), forwards it to a backend engine (embedded
//     minidyn by default, or a [RemoteBackend] such as dynalite) and
//     records per-second AWS/DynamoDB metrics, kept as CloudWatch keeps
//     them ([SecondRetention], then per minute for [MinuteRetention]);
//   - the metrics: the same endpoint answers CloudWatch's GetMetricData,
//     GetMetricStatistics and ListMetrics in CloudWatch's own protocol
//     (Smithy RPC v2 CBOR), and a [Monitor] collects a table's series
//     through a [Source] such as [CloudWatchSource], against the local
//     endpoint or AWS alike;
//   - pricing: [Prices] turns a run's [Usage] into on-demand and provisioned
//     [Cost] figures.
//
// docs/capacity-model.md lists every rule with its AWS source and every
// approximation. Capacity figures keep DynamoDB's terms: RCU and WCU for
// provisioned capacity units, RRU and WRU for on-demand request units (a
// consumed read unit is one RRU, a consumed write unit one WRU).
package capacity
