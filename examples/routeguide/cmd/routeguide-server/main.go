// Command routeguide-server serves the route guide example service with its
// embedded feature database, guards it with an interceptors.Server
// (deadline guard, load shedding, deadline cap, panic recovery), and
// injects faults into it on request. It is the server every retry, hedging
// and chaos test in the project runs against.
//
// Usage:
//
//	routeguide-server [--addr HOST:PORT | --port N]
//	                  [--faults SPEC | --fault-file PATH] [--conn-faults SPEC]
//	                  [--seed N] [--max-active-faults N] [--header-faults]
//	                  [--admin --admin-token-file PATH]
//	                  [--min-budget DURATION] [--max-deadline DURATION]
//	                  [--max-concurrency N] [--method-concurrency METHOD=N]...
//	                  [--shed-code CODE] [--shed-pushback DURATION]
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
//	                        Without it the headers are ignored (not read, not
//	                        counted) and such calls are served as any other.
//	--admin                 also serve the fault admin service
//	                        (grpcresilience.faultinject.v1.FaultAdmin), which
//	                        reads the counters and replaces the faults while
//	                        the server runs, to callers that send the token of
//	                        --admin-token-file. Needs --admin-token-file.
//	--admin-token-file PATH the admin service's bearer token, read from PATH
//	                        (trailing whitespace, such as the final newline,
//	                        is dropped; 1 to 4096 bytes of visible ASCII).
//	                        Callers send the metadata
//	                        "authorization: Bearer TOKEN"; the others get
//	                        UNAUTHENTICATED. Only with --admin.
//
// Guard flags (interceptors.Server; see its doc for the order of the steps):
//
//	--min-budget DURATION   answer DEADLINE_EXCEEDED, before the handler
//	                        runs, to calls with less than DURATION left of
//	                        their deadline (default 0: only calls already
//	                        past it)
//	--max-deadline DURATION give each handler at most DURATION, also to calls
//	                        without a deadline (default 0: no cap). A stream
//	                        handler waiting for the client's next message
//	                        (RecordRoute, RouteChat) is not cut off by it.
//	--max-concurrency N     shed calls while N route guide handlers run
//	                        (default 0: no limit)
//	--method-concurrency METHOD=N
//	                        shed calls of METHOD while N of its handlers run;
//	                        METHOD is /routeguide.RouteGuide/ListFeatures or
//	                        just ListFeatures. Repeat it for more methods.
//	--shed-code CODE        status of a shed call: unavailable (default),
//	                        which every client may retry, or resource_exhausted
//	--shed-pushback DURATION
//	                        grpc-retry-pushback-ms trailer of a shed call: the
//	                        client's next attempt waits DURATION (default
//	                        50ms); a negative value tells clients not to retry
//
// Examples:
//
//	routeguide-server --port 50051 --faults 'unavailable=30%' --seed 1
//	routeguide-server --port 0 --faults 'first=2:unavailable,every=5:internal'
//	routeguide-server --faults '/routeguide.RouteGuide/ListFeatures:unavailable+after=3'
//	routeguide-server --fault-file faults.json --conn-faults 'reset=5%' --admin --admin-token-file token
//	routeguide-server --max-concurrency 8 --method-concurrency ListFeatures=2 --shed-pushback 20ms
//	routeguide-server --min-budget 50ms --max-deadline 2s --faults 'delay=1s@10%'
//	grpcurl -plaintext 127.0.0.1:50051 list     # through reflection
//
// examples/routeguide/grpcurl.sh starts the server on a free port and tries
// it with grpcurl, the admin service included.
//
// # The admin service
//
// The admin service is not registered without --admin: its calls get
// UNIMPLEMENTED and reflection does not list it. With --admin it serves
// only callers holding the token (see faultinject/admin): the token is
// read from a file, so that it appears neither in the command line (which
// every user of the machine can list) nor in any output. Make one with
//
//	(umask 077; openssl rand -hex 32 >admin-token)
//
// and send it with admin.InsecureBearerToken from Go, or with grpcurl
// without putting it on grpcurl's command line either:
//
//	ADMIN_TOKEN=$(cat admin-token) grpcurl -plaintext -expand-headers \
//	    -rpc-header 'authorization: Bearer ${ADMIN_TOKEN}' \
//	    127.0.0.1:50051 grpcresilience.faultinject.v1.FaultAdmin/GetStats
//
// The server speaks plaintext only, so the token crosses the network as it
// is: anyone who can read the traffic can read it. Listen on 127.0.0.1 (the
// default) or on a network only the chaos runner shares.
//
// # Output
//
// The first line on stdout gives the address, the seed, the faults and the
// guard settings, as in
//
//	routeguide-server: listening on 127.0.0.1:50051 seed=1 faults="unavailable=30%" conn-faults="" min-budget=0s max-deadline=0s max-concurrency=0 method-concurrency="ListFeatures=2" shed-code=UNAVAILABLE shed-pushback=50ms
//
// Every fault injected is logged on stderr in one line, as are faults skipped
// because of --max-active-faults and malformed fault headers ignored:
//
//	routeguide-server: fault: abort UNAVAILABLE /routeguide.RouteGuide/GetFeature seq=7 attempt=1 rule=0
//	routeguide-server: fault: conn-reset seq=3 127.0.0.1:53412
//
// When the server stops it prints its final counters on stdout in one line:
// the fault injector's, the fault listener's, then the guard's (guard-calls
// counts every route guide call; calls, only those the guard let through to
// the fault injector):
//
//	routeguide-server: stats: calls=10 aborts=3 (UNAVAILABLE=3) stream-aborts=0 delays=0 skipped=0 header-rejected=0 conns=1 refused=0 reset=0 conn-delayed=0 cut=0 guard-calls=12 expired=1 shed=1 panics=0
//
// # Services
//
// Besides routeguide.RouteGuide the server registers gRPC reflection (so
// grpcurl can list and call it), the standard health service (SERVING for ""
// and "routeguide.RouteGuide" until the server stops), and with --admin the
// fault admin service, for callers with its token only. The guard and call
// faults apply to routeguide.RouteGuide only: reflection, health and admin
// calls are never guarded, shed or faulted and never count as calls, so
// tools and health checkers neither break nor shift which calls a seed
// picks. Connection faults hit every connection. The guard runs outside the
// fault injector: a call it rejects or sheds is never seen by the injector,
// and injected faults and delays run under its deadline cap and panic
// recovery.
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
	"io/fs"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/examples/routeguide/server"
	"github.com/resilience-go/grpc-resilience/faultinject"
	"github.com/resilience-go/grpc-resilience/faultinject/admin"
	"github.com/resilience-go/grpc-resilience/faultinject/adminpb"
	"github.com/resilience-go/grpc-resilience/interceptors"
	"github.com/resilience-go/grpc-resilience/internal/cli"
	rstatus "github.com/resilience-go/grpc-resilience/status"
)

const (
	name        = "routeguide-server"
	defaultAddr = "127.0.0.1:50051"
	// shutdownGrace is how long running calls get to finish after a signal;
	// a RouteChat stream can stay open for ever, so it must be bounded.
	shutdownGrace = 5 * time.Second
	// routeGuide is the service that the guard and call faults apply to.
	routeGuide = "routeguide.RouteGuide"
	// defaultShedPushback is --shed-pushback's default, the same as
	// interceptors.WithShedPushback's.
	defaultShedPushback = 50 * time.Millisecond
	// maxTokenFileSize bounds what is read of --admin-token-file: room for
	// the longest token admin accepts and whitespace after it.
	maxTokenFileSize = 2 * admin.MaxTokenLen
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// usageError is a bad command line: exit status 2.
type usageError = cli.UsageError

// usagef returns a usageError with a formatted message.
func usagef(format string, args ...any) error { return cli.Usagef(format, args...) }

// exitCode reports err on stderr in one line and returns the exit status.
func exitCode(err error, stderr io.Writer) int { return cli.ExitCode(name, err, stderr) }

// config is a parsed command line.
type config struct {
	addr         string
	rules        []faultinject.Rule
	connFaults   faultinject.ConnFaults
	seed         uint64
	headerFaults bool
	maxActive    int
	admin        bool
	// adminToken is the admin service's bearer token, from
	// --admin-token-file; set when admin is.
	adminToken secret
	guard      guardConfig
	// grace is how long running calls get to finish once ctx is done.
	grace time.Duration
}

// secret is a string that fmt prints as REDACTED, so that the token cannot
// reach a log line by accident. (fmt cannot call the methods of unexported
// fields: never print a config.)
type secret string

// String hides the secret from %v, %s and %q.
func (secret) String() string { return "REDACTED" }

// GoString hides the secret from %#v.
func (secret) GoString() string { return "REDACTED" }

// guardConfig holds the settings of the interceptors.Server in front of the
// route guide.
type guardConfig struct {
	minBudget      time.Duration
	maxDeadline    time.Duration
	maxConcurrency int
	methodLimits   methodLimits
	shedCode       codes.Code
	shedPushback   time.Duration
}

// options returns g as the options of interceptors.NewServer.
func (g guardConfig) options() []interceptors.ServerOption {
	opts := []interceptors.ServerOption{
		interceptors.WithMinBudget(g.minBudget),
		interceptors.WithMaxDeadline(g.maxDeadline),
		interceptors.WithConcurrencyLimit(g.maxConcurrency),
		interceptors.WithShedCode(g.shedCode),
		interceptors.WithShedPushback(g.shedPushback),
	}
	for m, n := range g.methodLimits {
		opts = append(opts, interceptors.WithMethodConcurrencyLimit(m, n))
	}
	return opts
}

// String renders g as the key=value fields of the startup line.
func (g guardConfig) String() string {
	return fmt.Sprintf("min-budget=%v max-deadline=%v max-concurrency=%d method-concurrency=%q shed-code=%s shed-pushback=%v",
		g.minBudget, g.maxDeadline, g.maxConcurrency, g.methodLimits.String(), rstatus.Name(g.shedCode), g.shedPushback)
}

// methodLimits is the flag.Value of --method-concurrency: concurrency
// limits by full method name.
type methodLimits map[string]int

// String lists the limits as METHOD=N, short method names, sorted.
func (m methodLimits) String() string {
	parts := make([]string, 0, len(m))
	for full, n := range m {
		parts = append(parts, fmt.Sprintf("%s=%d", strings.TrimPrefix(full, "/"+routeGuide+"/"), n))
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// Set adds one METHOD=N; METHOD is a full route guide method name or just
// the method's name. A method given twice keeps its last limit.
func (m *methodLimits) Set(v string) error {
	method, limit, ok := strings.Cut(v, "=")
	if !ok {
		return errors.New("want METHOD=N, such as ListFeatures=2")
	}
	full := method
	if !strings.HasPrefix(full, "/") {
		full = "/" + routeGuide + "/" + method
	}
	if !isRouteGuideMethod(full) {
		return fmt.Errorf("%q is not a method of %s", method, routeGuide)
	}
	n, err := strconv.Atoi(limit)
	if err != nil || n < 1 {
		return fmt.Errorf("limit %q: want a whole number >= 1", limit)
	}
	if *m == nil {
		*m = methodLimits{}
	}
	(*m)[full] = n
	return nil
}

// isRouteGuideMethod reports whether fullMethod is a method of the route
// guide service.
func isRouteGuideMethod(fullMethod string) bool {
	name, ok := strings.CutPrefix(fullMethod, "/"+routeGuide+"/")
	if !ok {
		return false
	}
	for _, m := range pb.RouteGuide_ServiceDesc.Methods {
		if m.MethodName == name {
			return true
		}
	}
	for _, s := range pb.RouteGuide_ServiceDesc.Streams {
		if s.StreamName == name {
			return true
		}
	}
	return false
}

// errHelp is returned by parseFlags when -h printed the usage.
var errHelp = errors.New("help requested")

// parseFlags reads args into a config; a bad command line is a usageError
// naming the flag and value. Without --seed it picks a random seed.
func parseFlags(args []string, stdout io.Writer) (config, error) {
	cfg := config{grace: shutdownGrace}
	g := &cfg.guard
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
	fs.BoolVar(&cfg.admin, "admin", false, "also serve the fault admin service, to callers with the token of --admin-token-file")
	adminTokenFile := fs.String("admin-token-file", "", "read the admin service's bearer token from the file at `path`; required with --admin")
	fs.DurationVar(&g.minBudget, "min-budget", 0, "answer DEADLINE_EXCEEDED to calls with less than `duration` left of their deadline")
	fs.DurationVar(&g.maxDeadline, "max-deadline", 0, "give each handler at most `duration`, also without a deadline; 0 means no cap")
	fs.IntVar(&g.maxConcurrency, "max-concurrency", 0, "shed calls while `N` route guide handlers run; 0 means no limit")
	fs.Var(&g.methodLimits, "method-concurrency", "shed calls of a method while N of its handlers run, as `METHOD=N` (such as ListFeatures=2); repeatable")
	shedCode := fs.String("shed-code", "unavailable", "status `code` of a shed call: unavailable or resource_exhausted")
	fs.DurationVar(&g.shedPushback, "shed-pushback", defaultShedPushback, "grpc-retry-pushback-ms of a shed call as a `duration`; negative: do not retry")
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
	if err := parseGuard(g, *shedCode); err != nil {
		return cfg, err
	}
	switch {
	case cfg.admin && !set["admin-token-file"]:
		return cfg, usagef("--admin needs --admin-token-file PATH: the admin service serves only callers holding that file's token")
	case set["admin-token-file"] && !cfg.admin:
		return cfg, usagef("--admin-token-file %s without --admin: there is no admin service to protect", *adminTokenFile)
	case cfg.admin:
		tok, err := readToken(*adminTokenFile)
		if err != nil {
			return cfg, usagef("--admin-token-file %s: %w", *adminTokenFile, err)
		}
		cfg.adminToken = secret(tok)
	}
	if !set["seed"] {
		cfg.seed = rand.Uint64()
	}
	return cfg, nil
}

// readToken reads the admin token from the file at path: the file without
// its trailing whitespace. Its errors never hold the token.
func readToken(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", pathErr(err)
	}
	defer f.Close()
	// A token is short: a much larger file is the wrong file (or
	// /dev/zero), and is not read to its end.
	data, err := io.ReadAll(io.LimitReader(f, maxTokenFileSize+1))
	if err != nil {
		return "", pathErr(err)
	}
	if len(data) > maxTokenFileSize {
		return "", fmt.Errorf("the file is larger than %d bytes; want the admin token alone in it", maxTokenFileSize)
	}
	tok := strings.TrimRightFunc(string(data), unicode.IsSpace)
	if tok == "" {
		return "", errors.New("the file is empty; want the admin token in it")
	}
	// The admin package has the last word on what a token may hold.
	if _, err := admin.NewServer(nil, admin.WithBearerToken(tok)); err != nil {
		return "", err
	}
	return tok, nil
}

// pathErr drops the path from a *fs.PathError, which the caller names
// already.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// parseGuard checks the guard flags the flag package parsed, and parses
// --shed-code.
func parseGuard(g *guardConfig, shedCode string) error {
	switch {
	case g.minBudget < 0:
		return usagef("--min-budget %v: must not be negative", g.minBudget)
	case g.maxDeadline < 0:
		return usagef("--max-deadline %v: must not be negative", g.maxDeadline)
	case g.maxConcurrency < 0:
		return usagef("--max-concurrency %d: must not be negative", g.maxConcurrency)
	case g.shedPushback > math.MaxInt32*time.Millisecond:
		return usagef("--shed-pushback %v: out of range (the trailer holds at most %d ms)", g.shedPushback, math.MaxInt32)
	}
	var err error
	if g.shedCode, err = rstatus.ParseCode(shedCode); err != nil {
		return usagef("--shed-code: %w", err)
	}
	if g.shedCode != codes.Unavailable && g.shedCode != codes.ResourceExhausted {
		return usagef("--shed-code %s: must be unavailable or resource_exhausted", shedCode)
	}
	return nil
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
	lis, err := cli.Listen(cfg.addr)
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
	logw := cli.NewLineWriter(stderr)
	observe := faultinject.WithObserver(func(e faultinject.Event) {
		logw.Printf("%s: fault: %s\n", name, e)
	})
	guard, err := interceptors.NewServer(cfg.guard.options()...)
	if err != nil {
		lis.Close()
		return err
	}
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

	gs := newGRPCServer(guard, in)
	server.New().Register(gs)
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus(routeGuide, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(gs, hs)
	reflection.Register(gs)
	if cfg.admin {
		if err := admin.Register(gs, in, admin.WithListener(flis), admin.WithBearerToken(string(cfg.adminToken))); err != nil {
			flis.Close()
			return err
		}
	}

	fmt.Fprintf(stdout, "%s: listening on %s seed=%d faults=%q conn-faults=%q %s\n",
		name, lis.Addr(), cfg.seed, spec, cfg.connFaults.String(), cfg.guard)
	if cfg.headerFaults {
		logw.Printf("%s: warning: --header-faults is on: any client can make this server fail or delay its calls with x-envoy-fault-* request headers\n", name)
	}
	if cfg.admin {
		logw.Printf("%s: warning: --admin is on: any client holding the token of --admin-token-file can replace this server's faults through %s;"+
			" the token crosses the network in plaintext\n", name, adminpb.FaultAdmin_ServiceDesc.ServiceName)
	}

	// Shutting the health server down first reports NOT_SERVING.
	serveErr := cli.Serve(ctx, name, gs, flis, cfg.grace, logw, hs.Shutdown)
	fmt.Fprintf(stdout, "%s: stats: %s\n", name, formatStats(in.Stats(), flis.Stats(), guard.Stats()))
	return serveErr
}

// newGRPCServer returns a gRPC server whose route guide calls go through
// guard, then the fault injector in, then the handler: calls the guard
// rejects or sheds never reach the injector, and the injector's faults run
// under the guard's deadline cap and panic recovery.
func newGRPCServer(guard *interceptors.Server, in *faultinject.Injector) *grpc.Server {
	return grpc.NewServer(
		// Stop waits for the handlers it cut off, so the stats line counts them.
		grpc.WaitForHandlers(true),
		grpc.ChainUnaryInterceptor(
			onlyRouteGuideUnary(guard.UnaryServerInterceptor()),
			onlyRouteGuideUnary(in.UnaryServerInterceptor())),
		grpc.ChainStreamInterceptor(
			onlyRouteGuideStream(guard.StreamServerInterceptor()),
			onlyRouteGuideStream(in.StreamServerInterceptor())),
	)
}

// guarded reports whether the guard and call faults apply to fullMethod:
// only the route guide's own methods are guarded and faulted, never
// reflection, health or admin.
func guarded(fullMethod string) bool {
	return strings.HasPrefix(fullMethod, "/"+routeGuide+"/")
}

func onlyRouteGuideUnary(next grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if !guarded(info.FullMethod) {
			return handler(ctx, req)
		}
		return next(ctx, req, info, handler)
	}
}

func onlyRouteGuideStream(next grpc.StreamServerInterceptor) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if !guarded(info.FullMethod) {
			return handler(srv, ss)
		}
		return next(srv, ss, info, handler)
	}
}

// formatStats renders the injector's, the listener's and the guard's
// counters in one line of key=value pairs; aborts by code follow the total,
// by code number.
func formatStats(s faultinject.Stats, c faultinject.ConnStats, g interceptors.ServerStats) string {
	var b strings.Builder
	fmt.Fprintf(&b, "calls=%d aborts=%d", s.Calls, s.Aborts)
	b.WriteString(cli.CodeCounts(s.AbortsByCode))
	fmt.Fprintf(&b, " stream-aborts=%d delays=%d skipped=%d header-rejected=%d",
		s.StreamAborts, s.Delays, s.Skipped, s.HeaderRejected)
	fmt.Fprintf(&b, " conns=%d refused=%d reset=%d conn-delayed=%d cut=%d",
		c.Accepted, c.Refused, c.Reset, c.Delayed, c.Cut)
	fmt.Fprintf(&b, " guard-calls=%d expired=%d shed=%d panics=%d", g.Calls, g.Expired, g.Shed, g.Panics)
	return b.String()
}
