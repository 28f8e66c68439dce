// Command grpc-chaos runs a chaos test of grpc-resilience's client
// interceptors: it drives calls of all four RPC kinds (unary,
// server-streaming, client-streaming, bidi) under each client policy against
// fault-injecting route guide servers, and reports side by side how each
// policy fared.
//
// Usage:
//
//	grpc-chaos [flags]
//
// With no flags it starts a fault-injecting route guide server on 127.0.0.1
// and runs the default plan: 20% of attempts fail UNAVAILABLE, 5% are
// delayed 50ms, 2% of stream attempts fail INTERNAL after their first
// message (after commit, so no client may retry them); 1000 calls per kind
// and policy, 8 at a time, fault seed 1. The policies are
//
//	none      plain grpc-go, its own retries off
//	manual    the interceptors' manual mode: --retry-times, --retry-interval
//	a6-retry  an A6 retryPolicy (maxAttempts 5, backoff 10ms×2 up to 100ms)
//	a6-hedge  an A6 hedgingPolicy (maxAttempts 5, a hedge every 10ms)
//
// --service-config replaces the a6-retry policy's service config when it
// gives every method run a retryPolicy, or the a6-hedge policy's when it
// gives every one a hedgingPolicy. --target runs against servers that already run,
// such as routeguide-server processes: a host:port, a grpc target such as
// dns:///svc:50051, or a comma-separated list of host:port that becomes one
// round_robin fleet.
//
// It prints a table per kind (--json prints the report as JSON instead),
// and with --report DIR also writes DIR/report.json and DIR/report.html, a
// page with charts that reads offline. A progress bar goes to stderr when
// stderr is a terminal.
//
// --faults none runs the embedded server without faults.
//
// Exit status: 0 when the run finished (and met --slo, if given); 1 when it
// missed the --slo or could not run; 2 on bad input (a bad flag, fault
// spec, service config or SLO, or an unreachable --target), reported in one
// line; 130 when SIGINT or SIGTERM stopped it, after printing the rows that
// finished.
package main

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"
	"google.golang.org/grpc"

	"github.com/resilience-go/grpc-resilience/cmd/grpc-chaos/internal/report"
	"github.com/resilience-go/grpc-resilience/faultinject"
	"github.com/resilience-go/grpc-resilience/internal/cli"
	rsc "github.com/resilience-go/grpc-resilience/serviceconfig"
)

const name = "grpc-chaos"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var bar io.Writer
	if term.IsTerminal(int(os.Stderr.Fd())) {
		bar = os.Stderr
	}
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, bar)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// usageError is bad input: exit status 2.
type usageError = cli.UsageError

// usagef returns a usageError with a formatted message.
func usagef(format string, args ...any) error { return cli.Usagef(format, args...) }

// errSLOMissed is returned when the run missed its --slo: exit status 1.
var errSLOMissed = errors.New("SLO missed")

// afterRow, when not nil, is called after each row that finished: a test
// hook.
var afterRow func(row int)

// errInterrupted is returned when a signal stopped the run: exit status
// 130, as a shell reports a command ended by SIGINT.
var errInterrupted = errors.New("interrupted")

// exitCode reports err on stderr in one line and returns the exit status.
func exitCode(err error, stderr io.Writer) int {
	code := cli.ExitCode(name, err, stderr)
	if errors.Is(err, errInterrupted) {
		return 130
	}
	return code
}

// config is a parsed command line.
type config struct {
	faults, faultsFile string
	rules              []faultinject.Rule
	serviceConfig      *rsc.Config
	serviceConfigFile  string
	retryTimes         int
	retryInterval      time.Duration
	calls              int
	duration           time.Duration
	concurrency        int
	timeout            time.Duration
	connectTimeout     time.Duration
	seed               uint64
	kinds              []kind
	policies           []policy
	target             string
	reportDir          string
	slo                string
	objectives         []objective
	json               bool
}

func parseFlags(args []string, stdout io.Writer) (config, bool, error) {
	var c config
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported by exitCode, in one line
	fs.StringVar(&c.faults, "faults", "", "fault `spec` for the embedded server, in faultinject's text form, or \"none\" (default: the default plan)")
	fs.StringVar(&c.faultsFile, "faults-file", "", "JSON fault rule `file` for the embedded server")
	fs.StringVar(&c.serviceConfigFile, "service-config", "", "A6 service config JSON `file` for the a6-retry and a6-hedge policies")
	fs.IntVar(&c.retryTimes, "retry-times", defaultRetryTimes, "the manual policy's retries per call")
	fs.DurationVar(&c.retryInterval, "retry-interval", defaultRetryInterval, "the manual policy's wait between retries")
	fs.IntVar(&c.calls, "calls", defaultCalls, "calls per kind and policy")
	fs.DurationVar(&c.duration, "duration", 0, "run each kind and policy this long instead of a number of --calls")
	fs.IntVar(&c.concurrency, "concurrency", defaultConcurrency, "calls in flight at once")
	fs.DurationVar(&c.timeout, "timeout", defaultTimeout, "each call's deadline, spanning all its attempts")
	fs.DurationVar(&c.connectTimeout, "connect-timeout", defaultConnect, "how long a --target may take to accept a connection")
	fs.Uint64Var(&c.seed, "seed", defaultSeed, "the embedded server's fault seed")
	kindsFlag := fs.String("kinds", strings.Join(kindNames(kinds), ","), "RPC `kinds` to run, comma-separated")
	policiesFlag := fs.String("policies", strings.Join(policyNames, ","), "client `policies` to run, comma-separated")
	fs.StringVar(&c.target, "target", "", "run against this grpc `target` (host:port, dns:///host:port, or host:port,host:port,...) instead of an embedded server")
	fs.StringVar(&c.reportDir, "report", "", "write report.json and report.html to `dir`")
	fs.StringVar(&c.slo, "slo", "", "objectives every row must meet, e.g. 'success>=99.9%,p99<=100ms' or 'a6-retry:success>=99.9%'; exit status 1 when missed")
	fs.BoolVar(&c.json, "json", false, "print the report as JSON instead of tables")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fmt.Fprintf(stdout, "Usage: %s [flags]\n", name)
			fs.PrintDefaults()
			return c, true, nil
		}
		return c, false, usagef("%v (see -h)", err)
	}
	if fs.NArg() > 0 {
		return c, false, usagef("unexpected argument %q (see -h)", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if err := c.check(fs, set, *kindsFlag, *policiesFlag); err != nil {
		return c, false, err
	}
	return c, false, nil
}

// check validates the flags and loads the files they name.
func (c *config) check(fs *flag.FlagSet, set map[string]bool, kindsFlag, policiesFlag string) error {
	switch {
	case c.retryTimes < 0:
		return usagef("--retry-times = %d, want 0 or more", c.retryTimes)
	case c.retryInterval < 0:
		return usagef("--retry-interval = %v, want 0 or more", c.retryInterval)
	case set["calls"] && set["duration"]:
		return usagef("--calls and --duration both given; want one")
	case c.calls <= 0:
		return usagef("--calls = %d, want 1 or more", c.calls)
	case set["duration"] && c.duration <= 0:
		return usagef("--duration = %v, want a positive duration", c.duration)
	case c.concurrency <= 0 || c.concurrency > maxConcurrency:
		return usagef("--concurrency = %d, want 1 to %d", c.concurrency, maxConcurrency)
	case c.timeout <= 0:
		return usagef("--timeout = %v, want a positive duration", c.timeout)
	case c.connectTimeout <= 0:
		return usagef("--connect-timeout = %v, want a positive duration", c.connectTimeout)
	case set["faults"] && set["faults-file"]:
		return usagef("--faults and --faults-file both given; want one")
	case c.target != "" && (set["faults"] || set["faults-file"] || set["seed"]):
		return usagef("--faults, --faults-file and --seed configure the embedded server; a --target server has its own (see routeguide-server --faults)")
	}
	for _, f := range []string{"target", "service-config", "report", "faults-file", "faults"} {
		if set[f] && strings.TrimSpace(fs.Lookup(f).Value.String()) == "" {
			if f == "faults" {
				return usagef("--faults is empty; want a fault spec, or %q for no faults", noFaults)
			}
			return usagef("--%s is empty", f)
		}
	}
	if set["duration"] {
		c.calls = 0
	}
	if c.reportDir != "" {
		// Made now, so that a run is not lost to a report it cannot write.
		if err := os.MkdirAll(c.reportDir, 0o755); err != nil {
			return usagef("--report: %v", err)
		}
	}
	var err error
	if c.kinds, err = parseKinds(kindsFlag); err != nil {
		return err
	}
	if c.target == "" {
		if err := c.loadFaults(set); err != nil {
			return err
		}
	}
	if c.serviceConfigFile != "" {
		data, err := os.ReadFile(c.serviceConfigFile)
		if err != nil {
			return usagef("--service-config: %v", err)
		}
		if c.serviceConfig, err = rsc.Parse(data); err != nil {
			return usagef("--service-config %s: %v", c.serviceConfigFile, err)
		}
	}
	names, err := parseList("--policies", policiesFlag, policyNames, nil)
	if err != nil {
		return err
	}
	if c.policies, err = buildPolicies(names, c.kinds, c.retryTimes, c.retryInterval, c.serviceConfig, c.serviceConfigFile); err != nil {
		return err
	}
	if err := checkLB(c.serviceConfig, c.serviceConfigFile); err != nil {
		return err
	}
	if c.slo != "" || set["slo"] {
		if c.objectives, err = parseSLO(c.slo, names, kindNames(c.kinds), c.target == ""); err != nil {
			return usageError{Err: err}
		}
	}
	return nil
}

// loadFaults reads the embedded server's rules from --faults,
// --faults-file, or the default plan.
func (c *config) loadFaults(set map[string]bool) error {
	switch {
	case c.faultsFile != "":
		data, err := os.ReadFile(c.faultsFile)
		if err != nil {
			return usagef("--faults-file: %v", err)
		}
		rules, err := faultinject.ParseRules(data)
		if err != nil {
			return usagef("--faults-file %s: %v", c.faultsFile, err)
		}
		c.rules = rules
	default:
		if !set["faults"] {
			c.faults = defaultFaults
		}
		if c.faults == noFaults {
			return nil
		}
		rules, err := faultinject.ParseSpec(c.faults)
		if err != nil {
			return usagef("--faults: %v", err)
		}
		c.rules = rules
	}
	return nil
}

func kindNames(ks []kind) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.name
	}
	return out
}

func parseKinds(s string) ([]kind, error) {
	names, err := parseList("--kinds", s, kindNames(kinds), kindAliases)
	if err != nil {
		return nil, err
	}
	out := make([]kind, len(names))
	for i, n := range names {
		out[i] = kinds[slices.Index(kindNames(kinds), n)]
	}
	return out, nil
}

// parseList parses a comma-separated list of names from known (or their
// aliases), in the order given, each once.
func parseList(flagName, s string, known []string, aliases map[string]string) ([]string, error) {
	var out []string
	for tok := range strings.SplitSeq(s, ",") {
		n := strings.ToLower(strings.TrimSpace(tok))
		if a, ok := aliases[n]; ok {
			n = a
		}
		if !slices.Contains(known, n) {
			return nil, usagef("%s: unknown name %q; want some of %s", flagName, strings.TrimSpace(tok), strings.Join(known, ","))
		}
		if slices.Contains(out, n) {
			return nil, usagef("%s: %q given twice", flagName, n)
		}
		out = append(out, n)
	}
	return out, nil
}

// run is the whole command; bar, when not nil, receives a progress bar.
func run(ctx context.Context, args []string, stdout, stderr, bar io.Writer) error {
	c, help, err := parseFlags(args, stdout)
	if err != nil || help {
		return err
	}

	rep := &report.Report{
		Tool:    name,
		Started: time.Now().UTC().Truncate(time.Second),
		Plan: report.PlanInfo{
			Target: c.target, Calls: c.calls, Concurrency: c.concurrency,
			Timeout: c.timeout.String(), Kinds: kindNames(c.kinds),
		},
	}
	if c.calls == 0 {
		rep.Plan.Duration = c.duration.String()
	}
	for _, p := range c.policies {
		rep.Plan.Policies = append(rep.Plan.Policies, p.info)
	}

	r := &runner{
		world:       newWorld(nonce()),
		calls:       c.calls,
		duration:    c.duration,
		concurrency: c.concurrency,
		timeout:     c.timeout,
		seed:        c.seed,
	}
	if c.target == "" {
		emb, err := startEmbedded(c.rules, c.seed)
		if err != nil {
			return err
		}
		defer emb.stop()
		r.target, r.dial = emb.addr, func() []grpc.DialOption { return nil }
		r.serverAttempts, r.handlerRuns, r.endRow = emb.attempts, emb.handlerRuns, emb.endRow
		rep.Plan.Target = "embedded"
		rep.Plan.Faults, rep.Plan.Seed = c.faults, &c.seed
		if c.faultsFile != "" {
			rep.Plan.Faults = "file " + filepath.Base(c.faultsFile)
		}
		fmt.Fprintf(stderr, "%s: embedded route guide server on %s, faults %q, seed %d\n", name, emb.addr, rep.Plan.Faults, c.seed)
	} else {
		target, dial, err := resolveTarget(c.target)
		if err != nil {
			return err
		}
		if err := probe(ctx, target, dial(), c.connectTimeout); err != nil {
			return err
		}
		r.target, r.dial = target, dial
	}
	lb := lbConfig(c.serviceConfig)
	targetDial := r.dial
	r.dial = func() []grpc.DialOption { return append(targetDial(), lb) }

	prog := newProgress(bar, len(c.kinds)*len(c.policies), c.calls, c.duration)
	r.progress = prog.call
	start := time.Now()
	rowNum := 0
rows:
	for _, k := range c.kinds {
		for _, p := range c.policies {
			rowNum++
			prog.row(k.name, p.info.Name)
			row, err := r.runRow(ctx, rowNum, k, p)
			if err != nil && ctx.Err() != nil {
				rep.Interrupted = true
				break rows
			}
			if err != nil {
				prog.done()
				return err
			}
			rep.Rows = append(rep.Rows, row)
			if afterRow != nil {
				afterRow(rowNum)
			}
		}
	}
	prog.done()
	rep.ElapsedMs = ms(time.Since(start))
	if c.objectives != nil {
		rep.SLO = checkSLO(c.slo, c.objectives, rep.Rows)
	}

	if c.json {
		if err := report.WriteJSON(stdout, rep); err != nil {
			return err
		}
	} else {
		writeTables(stdout, rep)
	}
	if c.reportDir != "" {
		if err := writeReport(c.reportDir, rep); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "%s: report written to %s\n", name, filepath.Join(c.reportDir, "report.html"))
	}
	if rep.Interrupted {
		return fmt.Errorf("%w after %d of %d rows; the report holds those", errInterrupted, len(rep.Rows), len(c.kinds)*len(c.policies))
	}
	if rep.SLO != nil {
		return sloVerdict(stderr, rep.SLO)
	}
	return nil
}

// sloVerdict prints the checks that failed and returns errSLOMissed if any
// did.
func sloVerdict(stderr io.Writer, s *report.SLOResult) error {
	missed := 0
	for _, ch := range s.Checks {
		if !ch.Met {
			missed++
			fmt.Fprintf(stderr, "%s: SLO missed: %s/%s %s (value %s%s)\n", name, ch.Policy, ch.Kind, ch.Objective,
				strconv.FormatFloat(ch.Value, 'f', -1, 64), ch.Unit)
		}
	}
	if missed > 0 {
		return fmt.Errorf("%w: %d of %d checks failed", errSLOMissed, missed, len(s.Checks))
	}
	fmt.Fprintf(stderr, "%s: SLO met: %d checks\n", name, len(s.Checks))
	return nil
}

// writeReport writes dir/report.json and dir/report.html.
func writeReport(dir string, rep *report.Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	write := func(file string, fn func(io.Writer, *report.Report) error) error {
		f, err := os.Create(filepath.Join(dir, file))
		if err != nil {
			return err
		}
		if err := fn(f, rep); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	if err := write("report.json", report.WriteJSON); err != nil {
		return err
	}
	return write("report.html", report.WriteHTML)
}

// nonce returns a random number that tells this run's chat notes from
// those of other runs against the same server. It is not a fault decision,
// so it does not come from the seed.
func nonce() uint64 {
	var b [8]byte
	_, _ = crand.Read(b[:]) // crypto/rand.Read never fails
	return binary.LittleEndian.Uint64(b[:])
}
