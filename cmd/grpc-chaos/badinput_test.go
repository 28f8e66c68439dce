package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadInput: every kind of bad input ends the binary with exit status 2
// and one line on stderr that names the problem, never a stack trace, and
// nothing on stdout.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	badJSON := write("bad.json", `{"methodConfig": [`)
	unknownField := write("unknown.json", `{"methodConfig": [{"name": [{"service": "routeguide.RouteGuide"}], "retryPolicy": {"maxAttempt": 3}}]}`)
	noPolicy := write("nopolicy.json", `{"methodConfig": [{"name": [{"service": "routeguide.RouteGuide"}], "timeout": "1s"}]}`)
	badRules := write("rules.json", `{"rules": [{"abort": {"code": "NOPE"}}]}`)

	for _, tc := range []struct {
		name string
		args []string
		want []string // every one must appear in the message
	}{
		{"unknown flag", []string{"--retries", "3"}, []string{"retries"}},
		{"stray argument", []string{"now"}, []string{`"now"`}},
		{"bad fault spec", []string{"--faults", "unavailable=30%,delay=abc@10%"}, []string{"--faults", "rule 2", "abc"}},
		{"bad fault code", []string{"--faults", "teapot=10%"}, []string{"--faults", "teapot"}},
		{"bad rule file", []string{"--faults-file", badRules}, []string{"--faults-file", "NOPE"}},
		{"missing rule file", []string{"--faults-file", filepath.Join(dir, "none.json")}, []string{"--faults-file", "none.json"}},
		{"faults and file", []string{"--faults", "unavailable", "--faults-file", badRules}, []string{"--faults", "--faults-file"}},
		{"bad JSON", []string{"--service-config", badJSON}, []string{"--service-config", "bad.json"}},
		{"unknown field", []string{"--service-config", unknownField}, []string{"--service-config", "maxAttempt"}},
		{"no policy", []string{"--service-config", noPolicy}, []string{"--service-config", "retryPolicy", "hedgingPolicy"}},
		{"unreachable target", []string{"--target", "127.0.0.1:1", "--connect-timeout", "200ms"}, []string{"--target", "127.0.0.1:1", "unreachable"}},
		{"bad fleet address", []string{"--target", "127.0.0.1:1,nohost"}, []string{"--target", `"nohost"`}},
		{"faults with target", []string{"--target", "127.0.0.1:1", "--faults", "unavailable"}, []string{"--faults", "--target"}},
		{"bad SLO metric", []string{"--slo", "speed>=3"}, []string{"--slo", `"speed"`}},
		{"bad SLO percentage", []string{"--slo", "success>=99.9"}, []string{"--slo", `"99.9"`}},
		{"bad SLO duration", []string{"--slo", "p99<=fast"}, []string{"--slo", `"fast"`}},
		{"bad SLO comparison", []string{"--slo", "p99=100ms"}, []string{"--slo", "comparison"}},
		{"SLO policy not run", []string{"--policies", "none", "--slo", "a6-retry:success>=99%"}, []string{"--slo", `"a6-retry"`}},
		{"bad kind", []string{"--kinds", "unary,stream"}, []string{"--kinds", `"stream"`}},
		{"kind twice", []string{"--kinds", "unary,getfeature"}, []string{"--kinds", `"unary"`}},
		{"bad policy", []string{"--policies", "retry"}, []string{"--policies", `"retry"`}},
		{"zero calls", []string{"--calls", "0"}, []string{"--calls", "0"}},
		{"calls and duration", []string{"--calls", "5", "--duration", "1s"}, []string{"--calls", "--duration"}},
		{"bad duration", []string{"--duration", "soon"}, []string{"duration", "soon"}},
		{"negative retry times", []string{"--retry-times", "-1"}, []string{"--retry-times", "-1"}},
		{"zero concurrency", []string{"--concurrency", "0"}, []string{"--concurrency", "0"}},
		{"zero timeout", []string{"--timeout", "0s"}, []string{"--timeout", "0s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runBinary(t, tc.args...)
			if res.code != 2 {
				t.Errorf("grpc-chaos %q = exit %d, want 2; stderr: %s", tc.args, res.code, res.stderr)
			}
			msg := res.stderr
			if strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, name+": ") {
				t.Errorf("grpc-chaos %q printed %q on stderr, want one line starting %q", tc.args, msg, name+": ")
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("grpc-chaos %q printed %q, want it to mention %s", tc.args, msg, w)
				}
			}
			for _, bad := range []string{"panic", "goroutine"} {
				if strings.Contains(msg, bad) {
					t.Errorf("grpc-chaos %q printed %q, want no %s", tc.args, msg, bad)
				}
			}
			if res.stdout != "" {
				t.Errorf("grpc-chaos %q printed %q on stdout, want nothing", tc.args, res.stdout)
			}
		})
	}
}

// TestSLOExitStatus: --slo exits 1 when the plan cannot meet it and 0 when
// it does. Five attempts under 20% UNAVAILABLE give 1 − 0.2⁵ = 99.97%
// success, no retries 80%.
func TestSLOExitStatus(t *testing.T) {
	base := []string{"--kinds", "unary", "--calls", "300"}
	for _, tc := range []struct {
		args     []string
		wantCode int
	}{
		{[]string{"--policies", "a6-retry", "--slo", "success>=99%"}, 0},
		{[]string{"--policies", "none", "--slo", "success>=99.9%"}, 1},
		{[]string{"--policies", "none,a6-retry", "--slo", "a6-retry:success>=99%,a6-retry/unary:attempts<2"}, 0},
		{[]string{"--policies", "none,a6-retry", "--slo", "success>=99%"}, 1},
		{[]string{"--policies", "a6-retry", "--faults", "delay=20ms", "--slo", "p50<=5ms"}, 1},
		{[]string{"--policies", "manual", "--faults", "unavailable=100%", "--slo", "amplification<=1.5"}, 1},   // 5 attempts each, no throttle
		{[]string{"--policies", "a6-retry", "--faults", "unavailable=100%", "--slo", "amplification<=1.5"}, 0}, // the throttle holds it down
	} {
		args := append(base[:len(base):len(base)], tc.args...)
		res := runBinary(t, args...)
		if res.code != tc.wantCode {
			t.Errorf("grpc-chaos %q = exit %d, want %d; stderr:\n%s", args, res.code, tc.wantCode, res.stderr)
		}
		wantLine := "SLO met"
		if tc.wantCode != 0 {
			wantLine = "SLO missed"
		}
		if !strings.Contains(res.stderr, wantLine) {
			t.Errorf("grpc-chaos %q printed %q on stderr, want %q", args, res.stderr, wantLine)
		}
	}
}

// TestDuration: --duration runs each row for a time instead of a number of
// calls, and the report says so.
func TestDuration(t *testing.T) {
	args := []string{"--kinds", "unary,bidi", "--policies", "none,a6-retry", "--duration", "100ms", "--json"}
	res := runBinary(t, args...)
	if res.code != 0 {
		t.Fatalf("grpc-chaos %q = exit %d, want 0; stderr:\n%s", args, res.code, res.stderr)
	}
	rep := decodeReport(t, res.stdout)
	if rep.Plan.Calls != 0 || rep.Plan.Duration != "100ms" {
		t.Errorf("plan calls %d, duration %q; want 0 and \"100ms\"", rep.Plan.Calls, rep.Plan.Duration)
	}
	if len(rep.Rows) != 4 {
		t.Fatalf("report has %d rows, want 4", len(rep.Rows))
	}
	for _, row := range rep.Rows {
		if row.Calls == 0 {
			t.Errorf("%s/%s: no calls in 100ms, want some", row.Kind, row.Policy)
		}
	}
}

// TestInterrupted: a signal mid-run (here, the context it cancels) ends the
// run after the row in flight, with exit status 130 and a report of the
// rows that finished.
func TestInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	afterRow = func(row int) {
		if row == 1 {
			cancel()
		}
	}
	defer func() { afterRow = nil }()
	var stdout, stderr bytes.Buffer
	args := []string{"--kinds", "unary", "--policies", "none,a6-retry", "--calls", "50", "--json"}
	err := run(ctx, args, &stdout, &stderr, nil)
	if got := exitCode(err, io.Discard); got != 130 {
		t.Fatalf("run(%q) interrupted after row 1 = %v (exit %d), want exit 130", args, err, got)
	}
	rep := decodeReport(t, stdout.String())
	if !rep.Interrupted || len(rep.Rows) != 1 || rep.Rows[0].Policy != "none" || rep.Rows[0].Calls != 50 {
		t.Errorf("report: interrupted %v, %d rows; want interrupted, the finished row of 50 none calls", rep.Interrupted, len(rep.Rows))
	}
}

// TestNoFaults: --faults none runs the embedded server without faults:
// every call succeeds at the first attempt.
func TestNoFaults(t *testing.T) {
	var stdout, stderr bytes.Buffer
	args := []string{"--faults", "none", "--policies", "a6-retry", "--calls", "50", "--json"}
	if err := run(context.Background(), args, &stdout, &stderr, nil); err != nil {
		t.Fatalf("run(%q) = %v", args, err)
	}
	rep := decodeReport(t, stdout.String())
	if rep.Plan.Faults != "none" {
		t.Errorf("plan faults = %q, want \"none\"", rep.Plan.Faults)
	}
	for _, row := range rep.Rows {
		if row.OK != row.Calls || row.Attempts != row.Calls {
			t.Errorf("%s/%s: %d of %d OK in %d attempts, want every call OK at the first attempt", row.Kind, row.Policy, row.OK, row.Calls, row.Attempts)
		}
	}
}
