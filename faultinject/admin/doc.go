// Package admin serves the FaultAdmin gRPC service (package
// faultinject/adminpb) for a [faultinject.Injector] and, optionally, a
// [faultinject.Listener]: it reads their counters and replaces the fault
// rules and connection faults while the server runs, so that a chaos run can
// steer a whole fleet of servers from one place.
//
// # Off unless registered
//
// Nothing in this module registers the service by itself: a server has it
// only after [Register]. Anyone who can reach the service can make the server
// fail its calls, so register it only on servers under test, or on a
// separate grpc.Server listening on a port that only the chaos runner can
// reach. The service does no authentication of its own.
//
// # Rules that match every method
//
// When the service shares a grpc.Server with the injector's interceptors, a
// rule for every method ("unavailable=30%") also hits the admin calls: they
// would fail like any other, and count in the injector's Stats. Wrap the
// unary interceptor with [Exempt] to let the admin calls through untouched
// (the service has no streaming methods, so the stream interceptor needs no
// wrapping):
//
//	in, err := faultinject.New(rules)
//	...
//	s := grpc.NewServer(
//		grpc.ChainUnaryInterceptor(admin.Exempt(in.UnaryServerInterceptor())),
//		grpc.ChainStreamInterceptor(in.StreamServerInterceptor()),
//	)
//	admin.Register(s, in, admin.WithListener(lis))
//
// # Semantics
//
//   - GetStats returns the injector's [faultinject.Stats], with aborts keyed
//     by canonical code name ("UNAVAILABLE"), and the listener's
//     [faultinject.ConnStats] when there is a listener.
//   - GetRules returns the rules in force as a rule file
//     ([faultinject.MarshalRules]), always, and in the compact text form
//     ([faultinject.FormatSpec]) when the rules fit it; with a listener, also
//     its connection faults ([faultinject.ConnFaults.String]).
//   - SetRules takes rules in one of those two forms and connection faults in
//     the form of [faultinject.ParseConnSpec]. It changes nothing unless the
//     whole request is valid, and returns what is then in force. An explicit
//     empty spec clears the rules. Invalid input is INVALID_ARGUMENT with the
//     parse error's message; connection faults without a listener are
//     FAILED_PRECONDITION.
//   - SetRules calls are applied one at a time, and GetRules never sees half
//     of one; calls being served keep the faults already decided for them.
//   - A server made for a nil injector never panics: every method returns
//     FAILED_PRECONDITION.
//
// The server is safe for concurrent use.
package admin
