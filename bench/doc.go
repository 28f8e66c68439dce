// Package bench measures the success path of this library's client retry
// interceptors against their peers: plain grpc-go, grpc-go's built-in gRFC A6
// retry, and go-grpc-middleware v2's retry interceptor.
//
// It is a module of its own so that users of the library never download the
// peers. Everything lives in its tests; see README.md for how to run the
// benchmarks and compare them with benchstat, and run.sh for the whole run.
//
// # What is measured
//
// Every benchmark is one client flavour making one kind of call that
// succeeds on the first attempt, over a real TCP connection on 127.0.0.1 to
// a server with fixed replies (no lookups), one call at a time. The server
// runs in the same process, so allocs/op include its allocations too; they
// are the same for every flavour, so the differences between flavours are
// the client side's.
//
// Flavours (the sub-benchmark key "client"):
//
//   - plain: grpc-go with no interceptors and grpc.WithDisableRetry().
//   - grpcbuiltin: grpc-go's built-in retry with an A6 service config
//     (maxAttempts 3 on UNAVAILABLE, 1 ms initial backoff).
//   - middleware: go-grpc-middleware v2 retry, WithMax(3), unary and stream
//     interceptors. It refuses client-streaming and bidi calls, so those
//     benchmarks are skipped.
//   - manual: this library, interceptors.WithRetryTimes(2) with a 1 ms
//     interval.
//   - a6: this library, interceptors.WithServiceConfig with the same config
//     as grpcbuiltin.
//
// Kinds (the benchmark names): Unary (GetFeature), ServerStream
// (ListFeatures, one reply), ClientStream (RecordRoute, one point) and Bidi
// (RouteChat: send one, receive one, half-close, read to the end).
package bench
