// Command retry-proxy puts grpc-resilience on the client side of any gRPC
// client that cannot take it itself, such as a load generator (ghz) or a
// command-line tool (grpcurl): it is a local sidecar that accepts every
// call on a plaintext port (of 127.0.0.1 unless --addr says otherwise) and
// forwards it to one upstream server
// through a client connection built with interceptors.DialOptions, so each
// call is retried (or hedged) as the library says.
//
//	ghz ──► retry-proxy (grpc-resilience interceptors) ──► upstream server
//
// Usage:
//
//	retry-proxy --upstream HOST:PORT [--addr HOST:PORT | --port N]
//	            [--retry-times N [--retry-interval DURATION]] [--service-config FILE]
//	            [--per-attempt-timeout DURATION]
//
// Flags:
//
//	--upstream TARGET       the server to forward to, a grpc.NewClient target
//	                        such as 127.0.0.1:50051, over plaintext (required)
//	--addr HOST:PORT        listen on HOST:PORT (default 127.0.0.1:50060)
//	--port N                listen on 127.0.0.1:N; 0 picks a free port.
//	                        Not with --addr.
//	--retry-times N         the interceptors' manual mode: retry every method
//	                        up to N times (N+1 attempts; 0 forwards each call
//	                        once)
//	--retry-interval DURATION
//	                        the manual mode's fixed wait between attempts
//	                        (default 0: at once). Needs --retry-times.
//	--service-config FILE   a gRFC A6 service config (JSON, read with
//	                        serviceconfig.Parse): retry or hedging policies,
//	                        retry throttling and timeouts by method. With
//	                        --retry-times as well, the manual mode takes
//	                        precedence over the config's retry policies.
//	--per-attempt-timeout DURATION
//	                        bound every attempt (default 0: no bound); for
//	                        a stream it bounds the whole attempt
//
// At least one of --retry-times and --service-config is required; without
// --retry-times the startup line says retry-times=none.
//
// Examples:
//
//	retry-proxy --port 50060 --upstream 127.0.0.1:50051 --retry-times 4 --retry-interval 10ms
//	retry-proxy --port 0 --upstream 127.0.0.1:50051 --service-config a6.json
//	ghz --insecure --call routeguide.RouteGuide.GetFeature \
//	    -d '{"latitude":101203450,"longitude":-398765430}' 127.0.0.1:50060
//
// examples/routeguide/ghz.sh runs ghz against the fault-injecting route
// guide server, first directly and then through this proxy.
//
// # Forwarding
//
// Messages are forwarded as opaque bytes, never decoded, so any service
// can be proxied, reflection and health included (ghz and grpcurl find
// methods through the upstream's reflection). grpc-go's default limit of
// 4 MiB per message applies in both directions. Each frame travels as a
// *wrapperspb.BytesValue that a pass-through codec writes as exactly its
// bytes, which lets the interceptors keep the frames of a stream call in
// their replay buffer and send them again on a retry, for every kind of
// call.
//
// A method is forwarded with its own shape, unary or streaming, when its
// descriptor is in the global protobuf registry, and as a bidi stream
// otherwise. The registry also tells the interceptors which methods are
// idempotent (idempotency_level in the proto), which decides the codes they
// retry by default: this binary links in the route guide descriptors
// (examples/routeguide/routeguidepb), so GetFeature and ListFeatures are
// known to have no side effects. Other services' methods are retried on
// UNAVAILABLE only, unless a service config lists codes.
//
// Request metadata, response headers and trailers are forwarded, without
// the headers that belong to one hop: pseudo headers such as :authority,
// content-type, user-agent, te, grpc-timeout, the encodings, HTTP/1
// connection headers, and grpc-previous-rpc-attempts, which the proxy's
// own retries set. The client's deadline and cancellation reach the
// upstream call through its context. The final status is forwarded with
// its code, message and details; a grpc-retry-pushback-ms trailer of the
// last attempt is forwarded too. When the upstream call committed (its
// response headers arrived), the client gets response headers as well, so
// a retrying client in front of the proxy does not retry it either.
//
// # Output
//
// The first line on stdout gives the address and the settings, as in
//
//	retry-proxy: listening on 127.0.0.1:50060 upstream=127.0.0.1:50051 retry-times=4 retry-interval=10ms service-config="" per-attempt-timeout=0s
//
// When the proxy stops it prints its counters on stdout in one line: calls
// forwarded, how many ended OK and how many failed (by code), and the
// retries and hedges the interceptors made. Reflection and health calls
// count too: ghz's reflection stream, which ghz cancels once it knows the
// method, is the CANCELLED call in
//
//	retry-proxy: stats: calls=2001 ok=1998 failed=3 (CANCELLED=1 UNAVAILABLE=2) retries=855 hedges=0
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
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	// The route guide descriptors, for the method shapes and idempotency
	// levels that the proxy and the interceptors look up.
	_ "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/interceptors"
	"github.com/resilience-go/grpc-resilience/internal/cli"
	"github.com/resilience-go/grpc-resilience/retry"
	rsc "github.com/resilience-go/grpc-resilience/serviceconfig"
)

const (
	name        = "retry-proxy"
	defaultAddr = "127.0.0.1:50060"
	// shutdownGrace is how long running calls get to finish after a signal;
	// a forwarded stream can stay open for ever, so it must be bounded.
	shutdownGrace = 5 * time.Second
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// usagef returns a cli.UsageError with a formatted message.
func usagef(format string, args ...any) error { return cli.Usagef(format, args...) }

// exitCode reports err on stderr in one line and returns the exit status.
func exitCode(err error, stderr io.Writer) int { return cli.ExitCode(name, err, stderr) }

// config is a parsed command line.
type config struct {
	addr              string
	upstream          string
	retryTimes        int
	retryTimesSet     bool
	retryInterval     time.Duration
	serviceConfigFile string
	serviceConfig     *rsc.Config
	perAttemptTimeout time.Duration
	// grace is how long running calls get to finish once ctx is done.
	grace time.Duration
}

// options returns the interceptor options of cfg, with observe as the
// observer.
func (cfg config) options(observe retry.Observer) []interceptors.Option {
	opts := []interceptors.Option{interceptors.WithObserver(observe)}
	if cfg.serviceConfig != nil {
		opts = append(opts, interceptors.WithServiceConfig(cfg.serviceConfig))
	}
	if cfg.retryTimesSet {
		opts = append(opts, interceptors.WithRetryTimes(cfg.retryTimes), interceptors.WithRetryInterval(cfg.retryInterval))
	}
	if cfg.perAttemptTimeout > 0 {
		opts = append(opts, interceptors.WithPerAttemptTimeout(cfg.perAttemptTimeout))
	}
	return opts
}

// String renders the settings as the key=value fields of the startup line.
func (cfg config) String() string {
	times := "none"
	if cfg.retryTimesSet {
		times = strconv.Itoa(cfg.retryTimes)
	}
	return fmt.Sprintf("upstream=%s retry-times=%s retry-interval=%v service-config=%q per-attempt-timeout=%v",
		cfg.upstream, times, cfg.retryInterval, cfg.serviceConfigFile, cfg.perAttemptTimeout)
}

// errHelp is returned by parseFlags when -h printed the usage.
var errHelp = errors.New("help requested")

// parseFlags reads args into a config; a bad command line is a
// cli.UsageError naming the flag and value.
func parseFlags(args []string, stdout io.Writer) (config, error) {
	cfg := config{grace: shutdownGrace}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported by exitCode, in one line
	fs.StringVar(&cfg.upstream, "upstream", "", "`target` of the server to forward to, such as 127.0.0.1:50051 (required)")
	fs.StringVar(&cfg.addr, "addr", defaultAddr, "`host:port` to listen on; not with --port")
	port := fs.Int("port", 0, "listen on 127.0.0.1:`N`; 0 picks a free port; not with --addr")
	fs.IntVar(&cfg.retryTimes, "retry-times", 0, "manual mode: retry every method up to `N` times")
	fs.DurationVar(&cfg.retryInterval, "retry-interval", 0, "manual mode: fixed wait between attempts as a `duration`")
	fs.StringVar(&cfg.serviceConfigFile, "service-config", "", "gRFC A6 service config JSON `file`")
	fs.DurationVar(&cfg.perAttemptTimeout, "per-attempt-timeout", 0, "bound every attempt by `duration`; 0 means no bound")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fmt.Fprintf(stdout, "Usage: %s --upstream TARGET [flags]\n", name)
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

	if cfg.upstream == "" {
		return cfg, usagef("--upstream %q: want the target of the server to forward to, such as 127.0.0.1:50051", cfg.upstream)
	}
	if set["port"] {
		if set["addr"] {
			return cfg, usagef("--port %d and --addr %s: give one of them, not both", *port, cfg.addr)
		}
		if *port < 0 || *port > 65535 {
			return cfg, usagef("--port %d: not a port number (0 to 65535)", *port)
		}
		cfg.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(*port))
	}
	cfg.retryTimesSet = set["retry-times"]
	switch {
	case cfg.retryTimes < 0:
		return cfg, usagef("--retry-times %d: want 0 or more", cfg.retryTimes)
	case cfg.retryInterval < 0:
		return cfg, usagef("--retry-interval %v: want 0 or more", cfg.retryInterval)
	case set["retry-interval"] && !cfg.retryTimesSet:
		return cfg, usagef("--retry-interval %v: needs --retry-times", cfg.retryInterval)
	case cfg.perAttemptTimeout < 0:
		return cfg, usagef("--per-attempt-timeout %v: want 0 or more", cfg.perAttemptTimeout)
	case !cfg.retryTimesSet && !set["service-config"]:
		return cfg, usagef("give --retry-times N or --service-config FILE (see -h)")
	}
	if set["service-config"] {
		data, err := os.ReadFile(cfg.serviceConfigFile)
		if err != nil {
			return cfg, usagef("--service-config: %w", err)
		}
		if cfg.serviceConfig, err = rsc.Parse(data); err != nil {
			return cfg, usagef("--service-config %s: %w", cfg.serviceConfigFile, err)
		}
	}
	return cfg, nil
}

// run serves until ctx is done, then stops gracefully. A cancelled ctx still
// starts the proxy (so a bad address is reported) and stops it at once.
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

// serve forwards the calls that come in on lis to cfg.upstream until ctx is
// done, then stops gracefully, cutting off calls still running after
// cfg.grace. It closes lis.
func serve(ctx context.Context, lis net.Listener, cfg config, stdout, stderr io.Writer) error {
	stats := &counters{}
	conn, err := grpc.NewClient(cfg.upstream, upstreamDialOptions(cfg.options(stats.observe)...)...)
	if err != nil {
		lis.Close()
		// Only a target grpc cannot parse fails here.
		return usagef("--upstream %s: %w", cfg.upstream, err)
	}
	defer conn.Close()
	gs := newProxyServer(&proxy{conn: conn, stats: stats})

	fmt.Fprintf(stdout, "%s: listening on %s %s\n", name, lis.Addr(), cfg)
	serveErr := cli.Serve(ctx, name, gs, lis, cfg.grace, cli.NewLineWriter(stderr), nil)
	fmt.Fprintf(stdout, "%s: stats: %s\n", name, stats)
	return serveErr
}

// upstreamDialOptions returns the options of the upstream connection:
// plaintext, calls through the interceptors with opts, messages as opaque
// frames.
func upstreamDialOptions(opts ...interceptors.Option) []grpc.DialOption {
	return append(interceptors.DialOptions(opts...),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(rawCodec{})))
}

// newProxyServer returns a gRPC server that forwards every call through p.
// It registers no service of its own: reflection and health calls are
// forwarded too.
func newProxyServer(p *proxy) *grpc.Server {
	return grpc.NewServer(
		// Stop waits for the handlers it cut off, so the stats line counts them.
		grpc.WaitForHandlers(true),
		grpc.ForceServerCodecV2(rawCodec{}),
		grpc.UnknownServiceHandler(p.handle),
	)
}
