// Package admin serves the FaultAdmin gRPC service (package
// faultinject/adminpb) for a [faultinject.Injector] and, optionally, a
// [faultinject.Listener]: it reads their counters and replaces the fault
// rules and connection faults while the server runs, so that a chaos run can
// steer a whole fleet of servers from one place.
//
// # Off unless registered
//
// Nothing in this module registers the service by itself: a server has it
// only after [Register]. Anyone who may call the service can make the server
// fail its calls, so register it only on servers under test, or on a
// separate grpc.Server listening on a port that only the chaos runner can
// reach, and always with authentication.
//
// # Authentication
//
// The service checks its callers itself, in every method, before it reads
// or changes anything: the check holds whatever interceptors the server
// chains, and also for calls made in process. Each method refuses a caller
// that fails it, with a message that never holds a token:
//
//   - [WithBearerToken]: the caller must send the metadata
//     "authorization: Bearer TOKEN" with the configured token (send it with
//     [BearerToken] or [InsecureBearerToken]). Missing, wrong, repeated or
//     not a bearer token: UNAUTHENTICATED.
//   - [WithClientCertificate]: the caller must have presented a TLS client
//     certificate that the server verified against its client CAs (mutual
//     TLS). No TLS, no certificate, or a certificate the server did not
//     verify: UNAUTHENTICATED. With names, a verified certificate that names
//     none of them (DNS names or common name): PERMISSION_DENIED. A server
//     whose tls.Config requires verified client certificates
//     (tls.RequireAndVerifyClientCert) refuses the others in the TLS
//     handshake, before any call: the client sees UNAVAILABLE.
//   - [WithoutAuthentication]: every caller is served. The explicit opt-out,
//     for in-process tests and examples.
//   - None of them: every call is refused with UNAUTHENTICATED, with a
//     message naming these options. The service is closed by default.
//
// [WithBearerToken] and [WithClientCertificate] together require both: a
// caller must send the token and present a verified certificate
// (UNAUTHENTICATED when either is missing or wrong), and only then are the
// certificate's names checked (PERMISSION_DENIED). [WithoutAuthentication]
// cannot be combined with either. [NewServer] and [Register] return an
// error, naming the option, for an invalid configuration: an empty token, one
// longer than [MaxTokenLen] or not all visible ASCII, an empty certificate
// name, or
// [WithoutAuthentication] with another option.
//
// A bearer token crosses the network as it is: over a plaintext connection
// anyone who can read the traffic can read it, and then steer the server's
// faults. Serve the service over TLS (credentials.NewTLS) anywhere but on
// loopback or in process. [BearerToken] enforces that on the client, as
// grpc-go does for credentials that require transport security: it is
// refused over a connection without it. [InsecureBearerToken] sends the token
// over any connection, for loopback (127.0.0.1, where the route guide example
// server serves it in plaintext) and in-process connections.
// Both send the token with FaultAdmin calls only, never with other calls on
// the same connection.
//
// For a call in process, without a connection, put the credentials in the
// context the method gets: metadata.NewIncomingContext with the
// authorization metadata, or peer.NewContext with the TLS information.
//
//	// Server: the admin service for callers holding the token.
//	err := admin.Register(s, in, admin.WithBearerToken(token))
//	// Client, over TLS:
//	conn, err := grpc.NewClient(addr,
//		grpc.WithTransportCredentials(credentials.NewTLS(tlsConfig)),
//		grpc.WithPerRPCCredentials(admin.BearerToken(token)))
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
//	err = admin.Register(s, in, admin.WithBearerToken(token), admin.WithListener(lis))
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
//     FAILED_PRECONDITION to a caller that passed authentication.
//
// The server is safe for concurrent use.
package admin
