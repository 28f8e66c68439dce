// Package bench measures this library's client interceptors against the
// clients Go users pick today, on the same route guide server and the same
// seeded faults: plain grpc-go, grpc-go's built-in gRFC A6 retry,
// go-grpc-middleware v2's retry interceptor and failsafe-go's gRPC
// interceptor (unary calls only).
//
// It is a module of its own so that users of the library never download
// the peers, which its go.mod pins. Everything lives in its tests; run.sh
// runs the whole suite and regenerates BENCHMARKS.md at the repository's
// root, and README.md says what each benchmark measures.
//
// # What is measured
//
//   - The success path (Benchmark<Kind>/callers=<n>/client=<peer>): ns/op,
//     B/op and allocs/op of calls that succeed at once, with 1 and 8
//     concurrent callers, compared with benchstat.
//   - Fault scenarios (Benchmark<Scenario>/kind=<Kind>/client=<peer>), each
//     run once against a faultinject server: Flaky (30% UNAVAILABLE),
//     Outage (100%, with and without throttling), Pushback (200 ms),
//     Tail (5% of calls 50 ms slow, with and without hedging), Replay (a
//     stream cut off before commit), Partial (a stream failed after its
//     first response) and LargeStream (peak heap of a 10,000-message
//     client stream). Their figures are reported as benchmark metrics.
//
// The Test functions check, on few calls, the invariants BENCHMARKS.md
// reports, so that `go test` proves them without running the benchmarks.
package bench
