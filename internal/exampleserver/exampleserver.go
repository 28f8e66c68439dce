package exampleserver

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
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/resilience-go/grpc-resilience/faultinject"
	"github.com/resilience-go/grpc-resilience/internal/cli"
)

// shutdownGrace is how long running calls get to finish after a stop was
// asked for; a bidi stream can stay open for ever, so it must be bounded.
const shutdownGrace = 5 * time.Second

// Command is one example server command: what it serves and how it is
// called. The zero value is not usable: Name, DefaultAddr, Desc and Impl
// are required.
type Command struct {
	// Name is the command's name, such as "greeter-server": the prefix of
	// every line it prints.
	Name string
	// DefaultAddr is the default of --addr, such as "127.0.0.1:50052".
	DefaultAddr string
	// Desc describes the service served, usually the generated
	// NAME_ServiceDesc; faults apply to its methods only.
	Desc *grpc.ServiceDesc
	// Impl implements Desc.
	Impl any
	// Stats, when not nil, returns extra "key=value" fields for the stats
	// line printed when the server stops, such as "total=15".
	Stats func() string

	// grace overrides shutdownGrace when not zero; tests set it.
	grace time.Duration
}

// Main runs the command with the process's arguments until SIGINT or
// SIGTERM, reports an error on stderr in one line, and exits: 0 after a
// clean stop, 2 on a bad command line, 1 on any other failure.
func (c Command) Main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := c.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(cli.ExitCode(c.Name, err, os.Stderr))
}

// config is a parsed command line.
type config struct {
	addr  string
	rules []faultinject.Rule
	seed  uint64
}

// errHelp is returned by parseFlags when -h printed the usage.
var errHelp = errors.New("help requested")

// Run parses args, serves until ctx is done, then stops gracefully. A bad
// command line is a cli.UsageError naming the flag and value; -h prints the
// usage on stdout and returns nil. A ctx that is already done still starts
// the server (so that a bad address is reported) and stops it at once.
func (c Command) Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := c.parseFlags(args, stdout)
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
	return c.serve(ctx, lis, cfg, stdout, stderr)
}

// parseFlags reads args into a config. Without --seed it picks a random
// seed.
func (c Command) parseFlags(args []string, stdout io.Writer) (config, error) {
	cfg := config{}
	fs := flag.NewFlagSet(c.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported by cli.ExitCode, in one line
	fs.StringVar(&cfg.addr, "addr", c.DefaultAddr, "`host:port` to listen on; not with --port")
	port := fs.Int("port", 0, "listen on 127.0.0.1:`N`; 0 picks a free port; not with --addr")
	faults := fs.String("faults", "", "call faults as a `spec`, such as \"unavailable=30%,delay=50ms@10%\"")
	fs.Uint64Var(&cfg.seed, "seed", 0, "`seed` of every fault decision (default: random, printed at startup)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fmt.Fprintf(stdout, "Usage: %s [flags]\n", c.Name)
			fs.PrintDefaults()
			return cfg, errHelp
		}
		return cfg, cli.Usagef("%w (see -h)", err)
	}
	if fs.NArg() > 0 {
		return cfg, cli.Usagef("unexpected argument %q (see -h)", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["port"] {
		if set["addr"] {
			return cfg, cli.Usagef("--port %d and --addr %s: give one of them, not both", *port, cfg.addr)
		}
		if *port < 0 || *port > 65535 {
			return cfg, cli.Usagef("--port %d: not a port number (0 to 65535)", *port)
		}
		cfg.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(*port))
	}
	var err error
	if cfg.rules, err = faultinject.ParseSpec(*faults); err != nil {
		return cfg, cli.Usagef("--faults: %w", err)
	}
	for _, r := range cfg.rules {
		if !c.covers(r.Method) {
			return cfg, cli.Usagef("--faults %q: method %s is not a method of %s", *faults, r.Method, c.Desc.ServiceName)
		}
	}
	if !set["seed"] {
		cfg.seed = rand.Uint64()
	}
	return cfg, nil
}

// covers reports whether a fault rule for method (as in faultinject.Rule)
// can match calls of the command's service.
func (c Command) covers(method string) bool {
	if method == "" || method == "*" {
		return true
	}
	name, ok := strings.CutPrefix(method, "/"+c.Desc.ServiceName+"/")
	if !ok {
		return false
	}
	if name == "*" {
		return true
	}
	return slices.ContainsFunc(c.Desc.Methods, func(m grpc.MethodDesc) bool { return m.MethodName == name }) ||
		slices.ContainsFunc(c.Desc.Streams, func(s grpc.StreamDesc) bool { return s.StreamName == name })
}

// serve runs the service on lis with the faults of cfg until ctx is done,
// then stops gracefully. It closes lis.
func (c Command) serve(ctx context.Context, lis net.Listener, cfg config, stdout, stderr io.Writer) error {
	logw := cli.NewLineWriter(stderr)
	in, err := faultinject.New(cfg.rules, faultinject.WithSeed(cfg.seed),
		faultinject.WithObserver(func(e faultinject.Event) { logw.Printf("%s: fault: %s\n", c.Name, e) }))
	if err != nil {
		lis.Close()
		return err
	}
	spec, err := faultinject.FormatSpec(in.Rules())
	if err != nil {
		lis.Close()
		return err
	}

	prefix := "/" + c.Desc.ServiceName + "/"
	gs := grpc.NewServer(
		// Stop waits for the handlers it cut off, so the stats line counts them.
		grpc.WaitForHandlers(true),
		grpc.ChainUnaryInterceptor(onlyUnary(prefix, in.UnaryServerInterceptor())),
		grpc.ChainStreamInterceptor(onlyStream(prefix, in.StreamServerInterceptor())),
	)
	gs.RegisterService(c.Desc, c.Impl)
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus(c.Desc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(gs, hs)
	reflection.Register(gs)

	fmt.Fprintf(stdout, "%s: listening on %s seed=%d faults=%q\n", c.Name, lis.Addr(), cfg.seed, spec)

	grace := c.grace
	if grace == 0 {
		grace = shutdownGrace
	}
	// Shutting the health server down first reports NOT_SERVING.
	serveErr := cli.Serve(ctx, c.Name, gs, lis, grace, logw, hs.Shutdown)
	line := formatStats(in.Stats())
	if c.Stats != nil {
		line += " " + c.Stats()
	}
	fmt.Fprintf(stdout, "%s: stats: %s\n", c.Name, line)
	return serveErr
}

// onlyUnary applies next to the calls whose full method starts with prefix.
func onlyUnary(prefix string, next grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if !strings.HasPrefix(info.FullMethod, prefix) {
			return handler(ctx, req)
		}
		return next(ctx, req, info, handler)
	}
}

// onlyStream applies next to the calls whose full method starts with prefix.
func onlyStream(prefix string, next grpc.StreamServerInterceptor) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if !strings.HasPrefix(info.FullMethod, prefix) {
			return handler(srv, ss)
		}
		return next(srv, ss, info, handler)
	}
}

// formatStats renders the injector's counters as key=value pairs; aborts by
// code follow the total, in code order.
func formatStats(s faultinject.Stats) string {
	var b strings.Builder
	fmt.Fprintf(&b, "calls=%d aborts=%d", s.Calls, s.Aborts)
	b.WriteString(cli.CodeCounts(s.AbortsByCode))
	fmt.Fprintf(&b, " delays=%d", s.Delays)
	return b.String()
}
