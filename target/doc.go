// Package target is abusesim's load generator: it replays traffic classes
// against an HTTP API on an open-loop schedule and records what happened.
//
// A [Config] names a base URL and a set of [Class] values. Each class plays
// its [Phase] list back to back, with the request rate moving linearly from
// StartRPS to EndRPS within each phase. Requests start at their intended
// times whether or not earlier ones have finished (open loop), at most
// Workers of them in flight per class. Latency is recorded into HDR
// histograms twice: from the intended start, so a stalled server cannot hide
// behind a stalled client (coordinated omission corrected), and from the
// actual send.
//
// A class plays either the open model above (Executor ArrivalRate, with
// uniform or Poisson arrivals) or the closed model (Concurrency: Clients
// clients with think time, or ClientPhases ramping how many are active).
// Identities, retries, HTTP/2 and sharding are
// per class or per run; see [Class] and [Config].
//
// Plain-text HTTP/1.1 classes whose workers may each hold a connection go
// through github.com/valyala/fasthttp (a HostClient with one connection
// per worker, no pipelining, no retries of its own, bodies streamed and
// discarded): it writes and parses in the worker's goroutine and costs
// about half the CPU per request of net/http, which is what lets one core
// drive tens of thousands of requests per second. Everything else (TLS,
// HTTP/2, source pools, connection caps below the worker count) goes
// through net/http; Config.StdClient forces it.
//
// Paths and bodies are [Template] values: literal text with {{func}}
// placeholders filled per request; keys come from a [KeyDist].
//
// Targets must be on loopback unless their host is named in
// Config.AllowHosts: a flood aimed at someone else's API by mistake is the
// one failure this package refuses to make easy.
package target
