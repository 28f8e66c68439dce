package main

// Regression tests from a review of grpc-chaos: each one failed before the
// fix it is named for.

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc"
)

// runJSON runs the command in process with --json and returns its report.
func runJSON(t *testing.T, args ...string) (*bytes.Buffer, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), append(args, "--json"), &stdout, &stderr, nil)
	return &stdout, err
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A hedged call that ran out of its deadline lost no race: its attempts
// count under their own code (the observer reads HedgeCancelled's Code),
// not as CANCELLED.
func TestReviewHedgeDeadlineAttemptCodes(t *testing.T) {
	out, err := runJSON(t, "--faults", "delay=100ms", "--timeout", "35ms", "--kinds", "unary", "--policies", "a6-hedge", "--calls", "10")
	if err != nil {
		t.Fatal(err)
	}
	row := rowOf(t, decodeReport(t, out.String()), "unary", "a6-hedge")
	if row.OK != 0 {
		t.Fatalf("OK = %d, want 0: every call outlives its deadline", row.OK)
	}
	if n := row.AttemptCodes["CANCELLED"]; n != 0 {
		t.Errorf("AttemptCodes = %v; want no CANCELLED when no hedge won (the attempts ended DEADLINE_EXCEEDED)", row.AttemptCodes)
	}
}

// A --target that answers gRPC but is no route guide is bad input, found by
// the probe, not a plan of UNIMPLEMENTED calls.
func TestReviewTargetThatIsNotARouteGuide(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer() // no services
	go func() { _ = gs.Serve(lis) }()
	defer gs.Stop()
	_, err = runJSON(t, "--target", lis.Addr().String(), "--calls", "5", "--kinds", "unary", "--policies", "none")
	if !errors.As(err, new(usageError)) {
		t.Errorf("run(--target <server without RouteGuide>) = %v, want a usage error (exit 2)", err)
	}
}

// A service config whose methodConfigs name no route guide method is bad
// input: the a6-retry row would silently run without retries.
func TestReviewServiceConfigMatchingNoMethod(t *testing.T) {
	cfg := writeFile(t, "other.json", `{"methodConfig":[{"name":[{"service":"helloworld.Greeter"}],
		"retryPolicy":{"maxAttempts":5,"initialBackoff":"0.01s","maxBackoff":"0.1s","backoffMultiplier":2,"retryableStatusCodes":["UNAVAILABLE"]}}]}`)
	_, _, err := parseFlags([]string{"--service-config", cfg}, new(bytes.Buffer))
	if err == nil {
		t.Errorf("parseFlags(--service-config %s) = nil, want an error: no routeguide method matches", cfg)
	}
}

// A service config holding a retryPolicy for one method and a hedgingPolicy
// for another is bad input: the a6-retry row would hedge some kinds and the
// a6-hedge row retry others.
func TestReviewServiceConfigMixedPolicies(t *testing.T) {
	cfg := writeFile(t, "both.json", `{"methodConfig":[
		{"name":[{"service":"routeguide.RouteGuide","method":"GetFeature"}],
		 "retryPolicy":{"maxAttempts":3,"initialBackoff":"0.01s","maxBackoff":"0.1s","backoffMultiplier":2,"retryableStatusCodes":["UNAVAILABLE"]}},
		{"name":[{"service":"routeguide.RouteGuide"}],
		 "hedgingPolicy":{"maxAttempts":3,"hedgingDelay":"0.02s","nonFatalStatusCodes":["UNAVAILABLE"]}}]}`)
	_, _, err := parseFlags([]string{"--service-config", cfg}, new(bytes.Buffer))
	if !errors.As(err, new(usageError)) || !strings.Contains(err.Error(), "retryPolicy") || !strings.Contains(err.Error(), "hedgingPolicy") {
		t.Errorf("parseFlags(--service-config %s) = %v, want a usage error naming both policies", cfg, err)
	}
	// With only the unary kind run, every method run has a retryPolicy:
	// the file is the a6-retry policy, and a6-hedge keeps its own.
	c, _, err := parseFlags([]string{"--service-config", cfg, "--kinds", "unary"}, new(bytes.Buffer))
	if err != nil {
		t.Fatalf("parseFlags(--service-config %s --kinds unary) = %v, want nil", cfg, err)
	}
	for _, p := range c.policies {
		if p.info.Name == "a6-hedge" && !strings.Contains(p.info.Description, "hedgingPolicy") {
			t.Errorf("a6-hedge described as %q, want a hedgingPolicy", p.info.Description)
		}
		if p.info.Name == "a6-retry" && !strings.Contains(p.info.Description, "both.json") {
			t.Errorf("a6-retry described as %q, want the file's retryPolicy", p.info.Description)
		}
	}
}

// An unsupported loadBalancingConfig is bad input, found before the run
// starts, not by the first row's grpc.NewClient.
func TestReviewServiceConfigBadLB(t *testing.T) {
	cfg := writeFile(t, "lb.json", `{"loadBalancingConfig":[{"no_such_lb":{}}],"methodConfig":[{"name":[{"service":"routeguide.RouteGuide"}],
		"retryPolicy":{"maxAttempts":5,"initialBackoff":"0.01s","maxBackoff":"0.1s","backoffMultiplier":2,"retryableStatusCodes":["UNAVAILABLE"]}}]}`)
	_, err := runJSON(t, "--service-config", cfg, "--calls", "1", "--kinds", "unary", "--policies", "none")
	if !errors.As(err, new(usageError)) || !strings.Contains(err.Error(), "--service-config") {
		t.Errorf("run(--service-config with an unknown LB policy) = %v, want a usage error naming --service-config", err)
	}
}

// Bad bounds of --slo and --concurrency, and empty flag values, are bad
// input.
func TestReviewFlagBounds(t *testing.T) {
	for _, args := range [][]string{
		{"--slo", "success>=NaN%"},       // every check would fail: exit 1, not 2
		{"--slo", "attempts<=NaN"},       // likewise
		{"--slo", "p99<=Inf"},            // not a duration
		{"--slo", "attempts<=+Inf"},      // always met
		{"--concurrency", "10000000000"}, // a goroutine each: out of memory
		{"--target", ""},                 // would run the embedded server
		{"--faults", ""},                 // would run without faults
		{"--service-config", ""},         // would do nothing
		{"--report", " "},                // likewise
		{"--target", "127.0.0.1:1", "--slo", "amplification<=2"}, // no server counters to read
	} {
		if _, _, err := parseFlags(args, new(bytes.Buffer)); err == nil {
			t.Errorf("parseFlags(%q) = nil, want a usage error", args)
		}
	}
}
