// Package faultinject makes a grpc-go server fail on purpose, reproducibly,
// for tests and chaos runs: aborts, delays, mid-stream failures and
// connection faults, chosen by rules.
//
// # Rules
//
// A [Rule] matches methods (one method, every method of a service, or all)
// and holds an [Abort], a [Delay], or both, in the vocabulary of Envoy's
// fault filter so that a plan can move to an Envoy or Istio mesh: abort a
// share of calls with a status code (with an optional
// grpc-retry-pushback-ms trailer), delay a share of calls. Beyond Envoy, an
// abort can fail the first N attempts of every call (keyed on the
// grpc-previous-rpc-attempts header that retrying clients send), fail every
// Kth call, fail a stream after K messages, the partial-stream case that
// a client cannot retry, or cut a stream off after K requests, before any
// answer, which a client may retry only by sending them all again. [ParseSpec] reads rules from a compact text form
// for flags ("unavailable=30%,delay=50ms@10%,first=2:unavailable");
// [ParseRules] reads a JSON rule file.
//
// # Decisions
//
//   - A call is delayed first, then aborted; the delay and the abort are
//     drawn independently. Of several matching rules, the first delay that
//     fires and the first abort that fires apply.
//   - An abort before the handler runs is a trailers-only response: the
//     client sees no response headers, so it may retry. An abort after K
//     messages sends response headers first, so the call is committed and
//     a correct client does not retry it. An abort after K requests
//     (Abort.AfterRequests) sends no headers unless the handler sent some:
//     it is the uncommitted mid-upload failure that tests replay.
//   - A delay ends early, with the call's own cancellation status, when the
//     call is cancelled or its deadline passes; it never outlives the call.
//   - Every random decision is a function of the seed and of the call's
//     sequence number in the injector, so with [WithSeed] the same sequence
//     of calls meets the same faults, call by call. Without a seed each
//     injector picks a random one.
//   - Faults asked for by request headers are off unless the server turns
//     them on with [WithHeaderControl]: a production server can never be
//     made to fail by a client that was not allowed to.
//   - [WithMaxActiveFaults] caps the faulted calls in progress at once;
//     faults over the cap are skipped, not queued.
//   - [Injector.Stats] counts calls, aborts per code, delays, skipped
//     faults and rejected headers; it is safe to read while serving.
//
// # Connections
//
// A [Listener] wraps a net.Listener and refuses, resets, delays or cuts the
// connections it accepts, so clients see real transport failures
// (UNAVAILABLE from the transport, not from a handler). [ParseConnSpec]
// reads its compact form ("refuse=10%,cut=4096@5%"). Closing the Listener
// ends the delays of connections still waiting, so a server can stop at
// once. Its observer runs on the goroutine of Accept for refused, reset and
// delayed connections, and on the reading or writing goroutine for a cut.
//
// # Use
//
// Install the interceptors first in the chain, so faults hit before other
// interceptors do work:
//
//	in, err := faultinject.New(rules, faultinject.WithSeed(1))
//	...
//	s := grpc.NewServer(
//		grpc.ChainUnaryInterceptor(in.UnaryServerInterceptor()),
//		grpc.ChainStreamInterceptor(in.StreamServerInterceptor()),
//	)
//
// The package faultinject/admin serves a small gRPC service to read the
// counters and replace the rules at run time; it is off unless registered.
// The route guide example server (examples/routeguide/cmd/routeguide-server)
// takes --faults, --seed and --conn-faults flags built on this package.
package faultinject
