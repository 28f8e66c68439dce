// Package stubserver starts a route guide server for tests, with any of its
// four methods replaced, and hands back a client connected to it.
//
// Every package in the module tests against this one helper rather than
// growing its own, so fault injection, retries and hedging are all checked
// against the same server.
//
// # Usage
//
//	srv := stubserver.Start(t, stubserver.Handlers{
//		GetFeature: func(ctx context.Context, p *pb.Point) (*pb.Feature, error) {
//			return nil, status.Error(codes.Unavailable, "try again")
//		},
//	}, stubserver.WithDialOptions(grpc.WithUnaryInterceptor(myInterceptor)))
//	_, err := srv.Client().GetFeature(ctx, &pb.Point{})
//
// # Defaults and invariants
//
//   - A nil field of Handlers falls back to a fresh
//     examples/routeguide/server.Server with its embedded database, one per
//     stub server, so notes left by RouteChat never leak between tests.
//   - Start serves over an in-memory bufconn listener; StartTCP serves real
//     TCP on 127.0.0.1 with a port the kernel picks. Neither listens on any
//     other interface.
//   - The server gets no options beyond WithServerOptions, and the default
//     connection none beyond insecure credentials and WithDialOptions.
//     Connections from Dial get only the options passed to Dial.
//   - The server accepts from the listener itself unless WithListener
//     wraps it, as a faultinject.Listener does to inject connection
//     faults; clients always dial the listener's own address.
//   - The server holds the route guide service and, with WithRegister,
//     whatever other services the test registers.
//   - Everything Start, StartTCP and Dial create is shut down in
//     tb.Cleanup: connections first, then the server, which is stopped with
//     (*grpc.Server).Stop so that a hung stream cannot hang the test. A
//     Serve error is reported with tb.Errorf from the cleanup, never from
//     the serving goroutine.
//   - Start, StartTCP and Dial call tb.Fatalf on failure, so call them from
//     the test's own goroutine. The Server's methods are otherwise safe for
//     concurrent use.
//
// # Timeouts
//
// DefaultTimeout and ShortTimeout name how long tests wait, so that no test
// picks its own magic number or sleeps to wait for an event.
package stubserver
