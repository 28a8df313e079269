// Package refserver is the DynamoDB-backed HTTP API that abusesim attacks.
//
// The server stores items in one DynamoDB table and offers three routes:
//
//   - GET /items/{id} reads one item by its key and answers it as plain JSON
//     (200), or 404 when the table has no such item.
//   - POST /record writes one event, {"event_id", "user_id", "event_type",
//     "payload"?}, as an item keyed by its event_id (201), or answers 200
//     with "skipped" when conditional writes are on and the event exists.
//   - GET /healthz answers 200 while the server runs.
//
// Every error is JSON, {"error": "..."}, with a status that tells a client
// mistake (400, 404, 405, 413, 429) from a backend problem (5xx); a client
// mistake never yields a 5xx.
//
// A [Profile] switches the protections on or off: a per-client token bucket
// rate limiter, a short-lived cache in front of GetItem (hits and misses),
// eventually consistent reads, idempotent conditional writes, and the status
// answered when DynamoDB throttles. [BuiltinProfile] returns the two named
// profiles, "unprotected" and "protected", whose costs abusesim compares.
//
// The server talks to DynamoDB only through the AWS SDK for Go v2; its
// retries are those of the client it is given.
package refserver
