// Command routeguide-server serves the route guide example service with its
// embedded feature database, and injects faults into it on request. It is
// the server every retry, hedging and chaos test in the project runs
// against.
//
// Usage:
//
//	routeguide-server [--addr HOST:PORT | --port N]
//	                  [--faults SPEC | --fault-file PATH] [--conn-faults SPEC]
//	                  [--seed N] [--max-active-faults N] [--header-faults] [--admin]
//
// Flags:
//
//	--addr HOST:PORT        listen on HOST:PORT (default 127.0.0.1:50051)
//	--port N                listen on 127.0.0.1:N; 0 picks a free port.
//	                        Not with --addr.
//	--faults SPEC           call faults in faultinject.ParseSpec's text form,
//	                        such as "unavailable=30%,delay=50ms@10%"
//	--fault-file PATH       call faults from a JSON rule file
//	                        (faultinject.ParseRules). Not with --faults.
//	--conn-faults SPEC      connection faults in faultinject.ParseConnSpec's
//	                        form, such as "refuse=10%,reset=5%,cut=4096@10%"
//	--seed N                seed of every fault decision (a uint64). Without
//	                        it a random seed is picked and printed, so any run
//	                        can be repeated exactly.
//	--max-active-faults N   inject at most N faults at once; 0 means no cap
//	--header-faults         obey Envoy's x-envoy-fault-* request headers. Any
//	                        client can then make the server fail: test use only.
//	--admin                 also serve the fault admin service
//	                        (grpcresilience.faultinject.v1.FaultAdmin), which
//	                        reads the counters and replaces the faults while
//	                        the server runs. Any client can then change the
//	                        faults: test use only.
//
// Examples:
//
//	routeguide-server --port 50051 --faults 'unavailable=30%' --seed 1
//	routeguide-server --port 0 --faults 'first=2:unavailable,every=5:internal'
//	routeguide-server --faults '/routeguide.RouteGuide/ListFeatures:unavailable+after=3'
//	routeguide-server --fault-file faults.json --conn-faults 'reset=5%' --admin
//	grpcurl -plaintext 127.0.0.1:50051 list     # through reflection
//
// examples/routeguide/grpcurl.sh starts the server on a free port and tries
// it with grpcurl.
//
// # Output
//
// The first line on stdout gives the address, the seed and the faults, as in
//
//	routeguide-server: listening on 127.0.0.1:50051 seed=1 faults="unavailable=30%" conn-faults=""
//
// Every fault injected is logged on stderr in one line, as are faults skipped
// because of --max-active-faults and malformed fault headers ignored:
//
//	routeguide-server: fault: abort UNAVAILABLE /routeguide.RouteGuide/GetFeature seq=7 attempt=1 rule=0
//	routeguide-server: fault: conn-reset seq=3 127.0.0.1:53412
//
// When the server stops it prints its final counters on stdout in one line:
//
//	routeguide-server: stats: calls=10 aborts=3 (UNAVAILABLE=3) stream-aborts=0 delays=0 skipped=0 header-rejected=0 conns=1 refused=0 reset=0 conn-delayed=0 cut=0
//
// # Services
//
// Besides routeguide.RouteGuide the server registers gRPC reflection (so
// grpcurl can list and call it), the standard health service (SERVING for ""
// and "routeguide.RouteGuide" until the server stops), and with --admin the
// fault admin service. Call faults apply to routeguide.RouteGuide only:
// reflection, health and admin calls are never faulted and never count as
// calls, so tools and health checkers neither break nor shift which calls a
// seed picks. Connection faults hit every connection.
//
// It serves until SIGINT or SIGTERM, then stops gracefully: it lets running
// calls finish for up to 5 seconds before cutting them off. It exits 2 on a
// bad command line and 1 on any other failure.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/resilience-go/grpc-resilience/examples/routeguide/server"
	"github.com/resilience-go/grpc-resilience/faultinject"
	"github.com/resilience-go/grpc-resilience/faultinject/admin"
	"github.com/resilience-go/grpc-resilience/faultinject/adminpb"
	rstatus "github.com/resilience-go/grpc-resilience/status"
)

const (
	name        = "routeguide-server"
	defaultAddr = "127.0.0.1:50051"
	// shutdownGrace is how long running calls get to finish after a signal;
	// a RouteChat stream can stay open for ever, so it must be bounded.
	shutdownGrace = 5 * time.Second
	// routeGuide is the service that call faults apply to.
	routeGuide = "routeguide.RouteGuide"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// usageError is a bad command line: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns a usageError with a formatted message.
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// exitCode reports err on stderr in one line and returns the exit status.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	if errors.As(err, new(usageError)) {
		return 2
	}
	return 1
}

// config is a parsed command line.
type config struct {
	addr         string
	rules        []faultinject.Rule
	connFaults   faultinject.ConnFaults
	seed         uint64
	headerFaults bool
	maxActive    int
	admin        bool
	// grace is how long running calls get to finish once ctx is done.
	grace time.Duration
}

// errHelp is returned by parseFlags when -h printed the usage.
var errHelp = errors.New("help requested")

// parseFlags reads args into a config; a bad command line is a usageError
// naming the flag and value. Without --seed it picks a random seed.
func parseFlags(args []string, stdout io.Writer) (config, error) {
	cfg := config{grace: shutdownGrace}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported by exitCode, in one line
	fs.StringVar(&cfg.addr, "addr", defaultAddr, "`host:port` to listen on; not with --port")
	port := fs.Int("port", 0, "listen on 127.0.0.1:`N`; 0 picks a free port; not with --addr")
	faults := fs.String("faults", "", "call faults as a `spec`, such as \"unavailable=30%,delay=50ms@10%\"")
	faultFile := fs.String("fault-file", "", "read call faults from the JSON rule file at `path`; not with --faults")
	connFaults := fs.String("conn-faults", "", "connection faults as a `spec`, such as \"refuse=10%,reset=5%\"")
	fs.Uint64Var(&cfg.seed, "seed", 0, "`seed` of every fault decision (default: random, printed at startup)")
	fs.IntVar(&cfg.maxActive, "max-active-faults", 0, "inject at most `N` faults at once; 0 means no cap")
	fs.BoolVar(&cfg.headerFaults, "header-faults", false, "obey x-envoy-fault-* request headers: any client can make the server fail")
	fs.BoolVar(&cfg.admin, "admin", false, "also serve the fault admin service")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fmt.Fprintf(stdout, "Usage: %s [flags]\n", name)
			fs.PrintDefaults()
			return cfg, errHelp
		}
		return cfg, usagef("%w (see -h)", err)
	}
	if fs.NArg() > 0 {
		return cfg, usagef("unexpected argument %q (see -h)", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	if set["port"] {
		if set["addr"] {
			return cfg, usagef("--port %d and --addr %s: give one of them, not both", *port, cfg.addr)
		}
		if *port < 0 || *port > 65535 {
			return cfg, usagef("--port %d: not a port number (0 to 65535)", *port)
		}
		cfg.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(*port))
	}
	if set["faults"] && set["fault-file"] {
		return cfg, usagef("--faults %q and --fault-file %s: give one of them, not both", *faults, *faultFile)
	}
	var err error
	if cfg.rules, err = faultinject.ParseSpec(*faults); err != nil {
		return cfg, usagef("--faults: %w", err)
	}
	if set["fault-file"] {
		data, err := os.ReadFile(*faultFile)
		if err != nil {
			return cfg, usagef("--fault-file: %w", err)
		}
		if cfg.rules, err = faultinject.ParseRules(data); err != nil {
			return cfg, usagef("--fault-file %s: %w", *faultFile, err)
		}
	}
	if cfg.connFaults, err = faultinject.ParseConnSpec(*connFaults); err != nil {
		return cfg, usagef("--conn-faults: %w", err)
	}
	if cfg.maxActive < 0 {
		return cfg, usagef("--max-active-faults %d: must not be negative", cfg.maxActive)
	}
	if !set["seed"] {
		cfg.seed = rand.Uint64()
	}
	return cfg, nil
}

// run serves until ctx is done, then stops gracefully. A cancelled ctx still
// starts the server (so a bad address is reported) and stops it at once.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stdout)
	if errors.Is(err, errHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	return serve(ctx, lis, cfg, stdout, stderr)
}

// serve runs the route guide on lis with the faults of cfg until ctx is
// done, then stops gracefully, cutting off calls still running after
// cfg.grace. It closes lis.
func serve(ctx context.Context, lis net.Listener, cfg config, stdout, stderr io.Writer) error {
	// The observers run on the goroutines of calls and of Accept.
	logw := &lockedWriter{w: stderr}
	observe := faultinject.WithObserver(func(e faultinject.Event) {
		logw.printf("%s: fault: %s\n", name, e)
	})
	in, err := faultinject.New(cfg.rules,
		faultinject.WithSeed(cfg.seed),
		faultinject.WithHeaderControl(cfg.headerFaults),
		faultinject.WithMaxActiveFaults(cfg.maxActive),
		observe)
	if err != nil {
		lis.Close()
		return err
	}
	spec, err := faultinject.FormatSpec(in.Rules())
	if err != nil {
		// A rule file may hold a message the text form cannot; show the
		// rules all the same.
		spec = fmt.Sprintf("(%d rules with no text form)", len(cfg.rules))
	}
	flis, err := faultinject.NewListener(lis, cfg.connFaults, faultinject.WithSeed(cfg.seed), observe)
	if err != nil {
		lis.Close()
		return err
	}

	gs := grpc.NewServer(
		grpc.ChainUnaryInterceptor(onlyRouteGuideUnary(in.UnaryServerInterceptor())),
		grpc.ChainStreamInterceptor(onlyRouteGuideStream(in.StreamServerInterceptor())),
	)
	server.New().Register(gs)
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus(routeGuide, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(gs, hs)
	reflection.Register(gs)
	if cfg.admin {
		admin.Register(gs, in, admin.WithListener(flis))
	}

	served := make(chan error, 1)
	go func() { served <- gs.Serve(flis) }()
	fmt.Fprintf(stdout, "%s: listening on %s seed=%d faults=%q conn-faults=%q\n",
		name, lis.Addr(), cfg.seed, spec, cfg.connFaults.String())
	if cfg.headerFaults {
		logw.printf("%s: warning: --header-faults is on: any client can make this server fail or delay its calls with x-envoy-fault-* request headers\n", name)
	}
	if cfg.admin {
		logw.printf("%s: warning: --admin is on: any client can replace this server's faults through %s\n", name, adminpb.FaultAdmin_ServiceDesc.ServiceName)
	}

	var serveErr error
	select {
	case err := <-served:
		gs.Stop()
		serveErr = fmt.Errorf("serve %s: %w", lis.Addr(), err)
	case <-ctx.Done():
		serveErr = stop(gs, hs, served, cfg.grace, logw)
	}
	fmt.Fprintf(stdout, "%s: stats: %s\n", name, formatStats(in.Stats(), flis.Stats()))
	return serveErr
}

// stop reports NOT_SERVING, then stops gs gracefully, cutting off calls
// still running after grace.
func stop(gs *grpc.Server, hs *health.Server, served <-chan error, grace time.Duration, logw *lockedWriter) error {
	logw.printf("%s: stopping\n", name)
	hs.Shutdown()
	stopped := make(chan struct{})
	go func() {
		gs.GracefulStop()
		close(stopped)
	}()
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-stopped:
	case <-timer.C:
		logw.printf("%s: calls still running after %v; closing them\n", name, grace)
		gs.Stop()
		<-stopped
	}
	// A stop that comes before Serve got going makes Serve return
	// ErrServerStopped, which is still a clean stop.
	if err := <-served; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return err
	}
	return nil
}

// faulted reports whether call faults apply to fullMethod: only the route
// guide's own methods are faulted, never reflection, health or admin.
func faulted(fullMethod string) bool {
	return strings.HasPrefix(fullMethod, "/"+routeGuide+"/")
}

func onlyRouteGuideUnary(next grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if !faulted(info.FullMethod) {
			return handler(ctx, req)
		}
		return next(ctx, req, info, handler)
	}
}

func onlyRouteGuideStream(next grpc.StreamServerInterceptor) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if !faulted(info.FullMethod) {
			return handler(srv, ss)
		}
		return next(srv, ss, info, handler)
	}
}

// formatStats renders the injector's and the listener's counters in one
// line of key=value pairs; aborts by code follow the total, by code number.
func formatStats(s faultinject.Stats, c faultinject.ConnStats) string {
	var b strings.Builder
	fmt.Fprintf(&b, "calls=%d aborts=%d", s.Calls, s.Aborts)
	if len(s.AbortsByCode) > 0 {
		keys := make([]codes.Code, 0, len(s.AbortsByCode))
		for k := range s.AbortsByCode {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s=%d", rstatus.Name(k), s.AbortsByCode[k])
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(parts, " "))
	}
	fmt.Fprintf(&b, " stream-aborts=%d delays=%d skipped=%d header-rejected=%d",
		s.StreamAborts, s.Delays, s.Skipped, s.HeaderRejected)
	fmt.Fprintf(&b, " conns=%d refused=%d reset=%d conn-delayed=%d cut=%d",
		c.Accepted, c.Refused, c.Reset, c.Delayed, c.Cut)
	return b.String()
}

// lockedWriter serialises whole lines from concurrent goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) printf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = io.WriteString(l.w, line) // a log line that cannot be written is lost
}
