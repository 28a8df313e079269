// Package refserver is the DynamoDB-backed HTTP API that abusesim attacks,
// with every protection switchable so a run can show what each one buys
// and what each one misses.
//
// The server keeps items in one DynamoDB table with a GSI on user_id:
//
//   - GET /items/{id}: GetItem (200, or 404 when there is no such item).
//   - PUT /items/{id}: UpdateItem setting each attribute of a JSON object.
//   - GET /users/{user_id}/items?limit=N&cursor=...: Query on the GSI, one
//     page at a time.
//   - GET /search?q=...: Scan with a filter, the expensive endpoint.
//   - POST /record: PutItem of an event {"event_id", "user_id",
//     "event_type", "payload"?} (201, or 200 with "skipped").
//   - GET /healthz, and GET /metrics in the Prometheus text format.
//
// Every error is JSON, {"error": "..."}, with a status that tells a client
// mistake (400, 403, 404, 405, 413, 429) from a backend problem (5xx); a
// client mistake never yields a 5xx.
//
// A [Profile], plain data loaded from YAML, switches the protections: rate
// limits (GCRA, token bucket, sliding window, or the seed article's naive
// fixed window; in memory or in Redis; keyed by IP, trusted forwarded IP,
// API key or globally), a cache with negative entries and request
// coalescing, read consistency, conditional writes, a dedupe window, a
// per-principal write limit, request limits, and throttle handling (SDK
// retries, 503 with Retry-After, load shedding). [BuiltinProfile] returns
// the named profiles "unprotected", "seed" and "protected".
//
// The server talks to DynamoDB only through the AWS SDK for Go v2.
// docs/reference-server.md describes every protection and profile.
package refserver
