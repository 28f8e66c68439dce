package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	refpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/faultinject"
	"github.com/resilience-go/grpc-resilience/faultinject/admin"
	"github.com/resilience-go/grpc-resilience/faultinject/adminpb"
	"github.com/resilience-go/grpc-resilience/interceptors"
	"github.com/resilience-go/grpc-resilience/internal/proctest"
	"github.com/resilience-go/grpc-resilience/internal/stubserver"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// lighthouse is a point of the embedded database, and its feature's name.
var (
	lighthouse     = &pb.Point{Latitude: 101203450, Longitude: -398765430}
	lighthouseName = "Harbour Lighthouse"
)

const getFeature = "/routeguide.RouteGuide/GetFeature"

// cutListening splits the startup line into the address and the seed.
func cutListening(line string) (addr, seed string, ok bool) {
	rest, ok := strings.CutPrefix(line, name+": listening on ")
	if !ok {
		return "", "", false
	}
	fields := strings.Fields(rest)
	addr = fields[0]
	for _, f := range fields[1:] {
		if v, ok := strings.CutPrefix(f, "seed="); ok {
			seed = v
		}
	}
	return addr, seed, seed != ""
}

func TestRunCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout bytes.Buffer
	args := []string{"--addr", "127.0.0.1:0", "--seed", "5", "--faults", "unavailable=30%"}
	if err := run(ctx, args, &stdout, io.Discard); err != nil {
		t.Fatalf("run(cancelled, %q) = %v, want nil", args, err)
	}
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	if got, want := len(lines), 2; got != want {
		t.Fatalf("run(cancelled, %q) printed %d lines %q, want %d: startup and stats", args, got, lines, want)
	}
	if want := name + ": listening on 127.0.0.1:"; !strings.HasPrefix(lines[0], want) {
		t.Errorf("run(cancelled, %q) printed %q, want it to start with %q", args, lines[0], want)
	}
	want := ` seed=5 faults="unavailable=30%" conn-faults=""` +
		` min-budget=0s max-deadline=0s max-concurrency=0 method-concurrency="" shed-code=UNAVAILABLE shed-pushback=50ms`
	if !strings.HasSuffix(lines[0], want) {
		t.Errorf("run(cancelled, %q) printed %q, want it to end with %q", args, lines[0], want)
	}
	want = name + ": stats: " + formatStats(faultinject.Stats{}, faultinject.ConnStats{}, interceptors.ServerStats{})
	if lines[1] != want {
		t.Errorf("run(cancelled, %q) printed %q last, want %q", args, lines[1], want)
	}
}

// TestRunRandomSeed checks that a run without --seed picks a seed of its
// own and prints it, so that it can be repeated.
func TestRunRandomSeed(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	seeds := map[string]bool{}
	for range 2 {
		var stdout bytes.Buffer
		args := []string{"--port", "0"}
		if err := run(ctx, args, &stdout, io.Discard); err != nil {
			t.Fatalf("run(cancelled, %q) = %v, want nil", args, err)
		}
		line, _, _ := strings.Cut(stdout.String(), "\n")
		_, seed, ok := cutListening(line)
		if !ok {
			t.Fatalf("run(cancelled, %q) printed %q, want a seed in the startup line", args, line)
		}
		if _, err := strconv.ParseUint(seed, 10, 64); err != nil {
			t.Errorf("run(cancelled, %q) printed seed %q, want a uint64", args, seed)
		}
		seeds[seed] = true
	}
	if len(seeds) != 2 {
		t.Errorf("two runs without --seed printed seeds %v, want two different seeds", seeds)
	}
}

// TestRunServes runs the command, calls it over TCP, and stops it by
// cancelling its context as a signal would.
func TestRunServes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	pr, pw := io.Pipe()
	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		for s := bufio.NewScanner(pr); s.Scan(); {
			lines <- s.Text()
		}
	}()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--port", "0"}, pw, io.Discard)
		pw.Close()
	}()

	timeout, stopTimeout := context.WithTimeout(context.Background(), stubserver.DefaultTimeout)
	defer stopTimeout()
	var addr string
	select {
	case line := <-lines:
		var ok bool
		if addr, _, ok = cutListening(line); !ok {
			t.Fatalf("run() first line = %q, want the listening address and seed", line)
		}
	case err := <-done:
		t.Fatalf("run() = %v before listening", err)
	case <-timeout.Done():
		t.Fatalf("run() printed no address within %v", stubserver.DefaultTimeout)
	}

	conn := dial(t, addr)
	f, err := pb.NewRouteGuideClient(conn).GetFeature(timeout, lighthouse)
	if err != nil {
		t.Fatalf("GetFeature(%v) = %v", lighthouse, err)
	}
	if got, want := f.GetName(), lighthouseName; got != want {
		t.Errorf("GetFeature(%v) = %q, want %q", lighthouse, got, want)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run() after cancel = %v, want nil", err)
		}
	case <-timeout.Done():
		t.Fatalf("run() did not return within %v of cancel", stubserver.DefaultTimeout)
	}
	for range lines {
		// Drain until the pipe closes so the reader goroutine ends.
	}
}

func TestRunUsage(t *testing.T) {
	dir := t.TempDir()
	badFile := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(badFile, []byte(`{"rules": [{"abort": {"code": "NOPE"}}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	goodFile := filepath.Join(dir, "good.json")
	if err := os.WriteFile(goodFile, []byte(`[{"abort": {"code": "unavailable"}}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	// The token files hold secret, which no error may show.
	const secret = "SECRET-4a7c"
	tokenFile := writeTokenFile(t, secret)
	emptyToken := writeTokenFile(t, "")
	blankToken := writeTokenFile(t, " \n\t\r\n")
	spacedToken := writeTokenFile(t, "my "+secret)
	twoLineToken := writeTokenFile(t, secret+"\n"+secret)
	longToken := writeTokenFile(t, secret+strings.Repeat("x", admin.MaxTokenLen))
	hugeToken := writeTokenFile(t, secret+strings.Repeat("x", 1<<20))
	noToken := filepath.Join(dir, "no-token")
	tests := []struct {
		name     string
		args     []string
		wantCode int      // exit status from exitCode
		wantErr  []string // in the error: the flags and values at fault
		wantOut  string   // in stdout
	}{
		{name: "unknown flag", args: []string{"--nope"}, wantCode: 2, wantErr: []string{"-nope"}},
		{name: "flag without value", args: []string{"--addr"}, wantCode: 2, wantErr: []string{"-addr"}},
		{name: "positional argument", args: []string{"serve"}, wantCode: 2, wantErr: []string{`"serve"`}},
		{name: "help", args: []string{"-h"}, wantOut: "-addr host:port"},
		{name: "help lists faults", args: []string{"-h"}, wantOut: "-faults spec"},
		{name: "bad fault duration", args: []string{"--faults", "unavailable=30%,delay=abc"},
			wantCode: 2, wantErr: []string{"--faults", `"delay=abc"`, `"abc"`}},
		{name: "bad fault code", args: []string{"--faults", "nope"}, wantCode: 2, wantErr: []string{"--faults", `"nope"`}},
		{name: "bad fault share", args: []string{"--faults", "unavailable=300%"}, wantCode: 2, wantErr: []string{"--faults", "300%"}},
		{name: "missing fault file", args: []string{"--fault-file", filepath.Join(dir, "none.json")},
			wantCode: 2, wantErr: []string{"--fault-file", "none.json"}},
		{name: "bad fault file", args: []string{"--fault-file", badFile}, wantCode: 2, wantErr: []string{"--fault-file", badFile, "NOPE"}},
		{name: "faults and fault file", args: []string{"--faults", "unavailable", "--fault-file", goodFile},
			wantCode: 2, wantErr: []string{"--faults", "--fault-file"}},
		{name: "bad conn fault share", args: []string{"--conn-faults", "refuse=200%"},
			wantCode: 2, wantErr: []string{"--conn-faults", "200%"}},
		{name: "bad conn fault key", args: []string{"--conn-faults", "drop=1%"}, wantCode: 2, wantErr: []string{"--conn-faults", `"drop"`}},
		{name: "bad seed", args: []string{"--seed", "abc"}, wantCode: 2, wantErr: []string{"-seed", `"abc"`}},
		{name: "negative seed", args: []string{"--seed", "-1"}, wantCode: 2, wantErr: []string{"-seed", `"-1"`}},
		{name: "bad port", args: []string{"--port", "http"}, wantCode: 2, wantErr: []string{"-port", `"http"`}},
		{name: "port too big", args: []string{"--port", "70000"}, wantCode: 2, wantErr: []string{"--port", "70000"}},
		{name: "negative port", args: []string{"--port", "-1"}, wantCode: 2, wantErr: []string{"--port", "-1"}},
		{name: "port and addr", args: []string{"--port", "0", "--addr", "127.0.0.1:0"},
			wantCode: 2, wantErr: []string{"--port", "--addr"}},
		{name: "negative max active", args: []string{"--max-active-faults", "-1"},
			wantCode: 2, wantErr: []string{"--max-active-faults", "-1"}},
		{name: "bad max active", args: []string{"--max-active-faults", "many"},
			wantCode: 2, wantErr: []string{"-max-active-faults", `"many"`}},
		{name: "bad header faults", args: []string{"--header-faults=maybe"},
			wantCode: 2, wantErr: []string{"-header-faults", `"maybe"`}},
		{name: "help lists guard", args: []string{"-h"}, wantOut: "-method-concurrency METHOD=N"},
		{name: "bad min budget", args: []string{"--min-budget", "soon"}, wantCode: 2, wantErr: []string{"-min-budget", `"soon"`}},
		{name: "negative min budget", args: []string{"--min-budget", "-1s"}, wantCode: 2, wantErr: []string{"--min-budget", "-1s"}},
		{name: "negative max deadline", args: []string{"--max-deadline", "-5ms"}, wantCode: 2, wantErr: []string{"--max-deadline", "-5ms"}},
		{name: "bad max deadline", args: []string{"--max-deadline", "5"}, wantCode: 2, wantErr: []string{"-max-deadline", `"5"`}},
		{name: "negative max concurrency", args: []string{"--max-concurrency", "-1"},
			wantCode: 2, wantErr: []string{"--max-concurrency", "-1"}},
		{name: "bad max concurrency", args: []string{"--max-concurrency", "lots"},
			wantCode: 2, wantErr: []string{"-max-concurrency", `"lots"`}},
		{name: "method limit without N", args: []string{"--method-concurrency", "ListFeatures"},
			wantCode: 2, wantErr: []string{"-method-concurrency", `"ListFeatures"`}},
		{name: "method limit zero", args: []string{"--method-concurrency", "ListFeatures=0"},
			wantCode: 2, wantErr: []string{"-method-concurrency", `"ListFeatures=0"`}},
		{name: "method limit not a number", args: []string{"--method-concurrency", "ListFeatures=two"},
			wantCode: 2, wantErr: []string{"-method-concurrency", `"ListFeatures=two"`}},
		{name: "method limit unknown method", args: []string{"--method-concurrency", "GetFeatures=2"},
			wantCode: 2, wantErr: []string{"-method-concurrency", `"GetFeatures=2"`}},
		{name: "method limit other service", args: []string{"--method-concurrency", "/grpc.health.v1.Health/Check=1"},
			wantCode: 2, wantErr: []string{"-method-concurrency", `"/grpc.health.v1.Health/Check=1"`}},
		{name: "method limit empty", args: []string{"--method-concurrency", "=2"}, wantCode: 2, wantErr: []string{"-method-concurrency", `"=2"`}},
		{name: "bad shed code", args: []string{"--shed-code", "nope"}, wantCode: 2, wantErr: []string{"--shed-code", `"nope"`}},
		{name: "other shed code", args: []string{"--shed-code", "internal"}, wantCode: 2, wantErr: []string{"--shed-code", "internal"}},
		{name: "bad shed pushback", args: []string{"--shed-pushback", "50"}, wantCode: 2, wantErr: []string{"-shed-pushback", `"50"`}},
		{name: "huge shed pushback", args: []string{"--shed-pushback", "1000h"}, wantCode: 2, wantErr: []string{"--shed-pushback", "1000h"}},
		{name: "help lists admin token file", args: []string{"-h"}, wantOut: "-admin-token-file path"},
		{name: "admin without token file", args: []string{"--admin"}, wantCode: 2, wantErr: []string{"--admin", "--admin-token-file"}},
		{name: "token file without admin", args: []string{"--admin-token-file", tokenFile},
			wantCode: 2, wantErr: []string{"--admin-token-file", tokenFile, "without --admin"}},
		{name: "token file with admin off", args: []string{"--admin=false", "--admin-token-file", tokenFile},
			wantCode: 2, wantErr: []string{"--admin-token-file", tokenFile, "without --admin"}},
		{name: "missing token file", args: []string{"--admin", "--admin-token-file", noToken},
			wantCode: 2, wantErr: []string{"--admin-token-file", noToken, "no such file"}},
		{name: "token file is a directory", args: []string{"--admin", "--admin-token-file", dir},
			wantCode: 2, wantErr: []string{"--admin-token-file", dir}},
		{name: "empty token file path", args: []string{"--admin", "--admin-token-file", ""}, wantCode: 2, wantErr: []string{"--admin-token-file"}},
		{name: "empty token file", args: []string{"--admin", "--admin-token-file", emptyToken},
			wantCode: 2, wantErr: []string{"--admin-token-file", emptyToken, "empty"}},
		{name: "blank token file", args: []string{"--admin", "--admin-token-file", blankToken},
			wantCode: 2, wantErr: []string{"--admin-token-file", blankToken, "empty"}},
		{name: "token with a space", args: []string{"--admin", "--admin-token-file", spacedToken},
			wantCode: 2, wantErr: []string{"--admin-token-file", spacedToken, "ASCII"}},
		{name: "token of two lines", args: []string{"--admin", "--admin-token-file", twoLineToken},
			wantCode: 2, wantErr: []string{"--admin-token-file", twoLineToken, "ASCII"}},
		{name: "token too long", args: []string{"--admin", "--admin-token-file", longToken},
			wantCode: 2, wantErr: []string{"--admin-token-file", longToken, "long"}},
		{name: "token file too large", args: []string{"--admin", "--admin-token-file", hugeToken},
			wantCode: 2, wantErr: []string{"--admin-token-file", hugeToken, "larger"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout bytes.Buffer
			err := run(context.Background(), tc.args, &stdout, io.Discard)
			if got := exitCode(err, io.Discard); got != tc.wantCode {
				t.Errorf("exitCode(run(%q)) = %d (error %v), want %d", tc.args, got, err, tc.wantCode)
			}
			for _, want := range tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("run(%q) = %v, want an error naming %s", tc.args, err, want)
				}
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("run(%q) = %q, want a one-line error", tc.args, err)
			}
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Errorf("run(%q) = %q, want an error without the token", tc.args, err)
			}
			if !strings.Contains(stdout.String(), tc.wantOut) {
				t.Errorf("run(%q) printed %q, want it to contain %q", tc.args, stdout.String(), tc.wantOut)
			}
		})
	}
}

func TestParseFlags(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "faults.json")
	if err := os.WriteFile(file, []byte(`{"rules": [{"abort": {"code": "unavailable", "first": 2}}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	firstTwo := []faultinject.Rule{{Abort: &faultinject.Abort{Code: codes.Unavailable, First: 2}}}
	tokenFile := writeTokenFile(t, "tok-3f9a\r\n \t\n")
	tests := []struct {
		args []string
		want config
	}{
		{[]string{"--seed", "1"}, config{addr: defaultAddr, seed: 1}},
		{[]string{"--seed", "18446744073709551615", "--port", "0"}, config{addr: "127.0.0.1:0", seed: 1<<64 - 1}},
		{[]string{"--seed", "1", "--port", "50052"}, config{addr: "127.0.0.1:50052", seed: 1}},
		{[]string{"--seed", "1", "--addr", "127.0.0.1:0"}, config{addr: "127.0.0.1:0", seed: 1}},
		{[]string{"--seed", "1", "--faults", "first=2:unavailable"}, config{addr: defaultAddr, seed: 1, rules: firstTwo}},
		{[]string{"--seed", "1", "--fault-file", file}, config{addr: defaultAddr, seed: 1, rules: firstTwo}},
		{[]string{"--seed", "1", "--conn-faults", "refuse=10%,cut=4096@20%"},
			config{addr: defaultAddr, seed: 1, connFaults: faultinject.ConnFaults{Refuse: 10, CutAfter: 4096, CutPercent: 20}}},
		{[]string{"--seed", "1", "--header-faults", "--max-active-faults", "3", "--admin", "--admin-token-file", tokenFile},
			config{addr: defaultAddr, seed: 1, headerFaults: true, maxActive: 3, admin: true, adminToken: "tok-3f9a"}},
		{[]string{"--seed", "1", "--admin-token-file", tokenFile, "--admin"},
			config{addr: defaultAddr, seed: 1, admin: true, adminToken: "tok-3f9a"}},
	}
	for _, tc := range tests {
		tc.want.grace = shutdownGrace
		got, err := parseFlags(tc.args, io.Discard)
		if err != nil {
			t.Errorf("parseFlags(%q) = %v, want nil", tc.args, err)
			continue
		}
		// TestParseGuardFlags checks the guard.
		if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(config{}), cmpopts.IgnoreFields(config{}, "guard")); diff != "" {
			t.Errorf("parseFlags(%q) mismatch (-want +got):\n%s", tc.args, diff)
		}
	}
}

func TestRunListenError(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("net.Listen() = %v", err)
	}
	defer busy.Close()
	args := []string{"--addr", busy.Addr().String()}
	err = run(context.Background(), args, io.Discard, io.Discard)
	if err == nil || errors.As(err, new(usageError)) {
		t.Errorf("run(%q) on a busy port = %v, want a non-usage error", args, err)
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		err        error
		want       int
		wantStderr string
	}{
		{nil, 0, ""},
		{usageError{Err: errors.New("bad flag")}, 2, name + ": bad flag\n"},
		{errors.New("boom"), 1, name + ": boom\n"},
	}
	for _, tc := range tests {
		var stderr bytes.Buffer
		if got := exitCode(tc.err, &stderr); got != tc.want {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
		if stderr.String() != tc.wantStderr {
			t.Errorf("exitCode(%v) printed %q, want %q", tc.err, stderr.String(), tc.wantStderr)
		}
	}
}

func TestFormatStats(t *testing.T) {
	tests := []struct {
		s    faultinject.Stats
		c    faultinject.ConnStats
		g    interceptors.ServerStats
		want string
	}{
		{want: "calls=0 aborts=0 stream-aborts=0 delays=0 skipped=0 header-rejected=0 conns=0 refused=0 reset=0 conn-delayed=0 cut=0" +
			" guard-calls=0 expired=0 shed=0 panics=0"},
		{
			s: faultinject.Stats{Calls: 9, Aborts: 5, StreamAborts: 1, Delays: 2, Skipped: 3, HeaderRejected: 4,
				AbortsByCode: map[codes.Code]uint64{codes.Internal: 1, codes.Unavailable: 3, codes.Aborted: 1}},
			c: faultinject.ConnStats{Accepted: 6, Refused: 1, Reset: 2, Delayed: 3, Cut: 4},
			g: interceptors.ServerStats{Calls: 12, Expired: 1, Shed: 2, Panics: 3, InFlight: 4},
			want: "calls=9 aborts=5 (ABORTED=1 INTERNAL=1 UNAVAILABLE=3) stream-aborts=1 delays=2 skipped=3 header-rejected=4 conns=6 refused=1 reset=2 conn-delayed=3 cut=4" +
				" guard-calls=12 expired=1 shed=2 panics=3",
		},
	}
	for _, tc := range tests {
		if got := formatStats(tc.s, tc.c, tc.g); got != tc.want {
			t.Errorf("formatStats(%+v, %+v, %+v) = %q, want %q", tc.s, tc.c, tc.g, got, tc.want)
		}
	}
}

// TestRetryFirstFaults runs grpc-go's own A6 retry against
// --faults first=2:unavailable: attempts 1 and 2 are aborted, the third
// succeeds, and the log and the final stats say so.
func TestRetryFirstFaults(t *testing.T) {
	srv := startServe(t, "--faults", "first=2:unavailable", "--seed", "1")
	conn := dial(t, srv.addr, grpc.WithDefaultServiceConfig(`{"methodConfig": [{
		"name": [{"service": "routeguide.RouteGuide"}],
		"retryPolicy": {"maxAttempts": 3, "initialBackoff": "0.001s", "maxBackoff": "0.001s",
		                "backoffMultiplier": 1, "retryableStatusCodes": ["UNAVAILABLE"]}}]}`))
	ctx, cancel := context.WithTimeout(context.Background(), stubserver.DefaultTimeout)
	defer cancel()
	f, err := pb.NewRouteGuideClient(conn).GetFeature(ctx, lighthouse)
	if err != nil {
		t.Fatalf("GetFeature(%v) with 3 attempts against first=2:unavailable = %v, want success", lighthouse, err)
	}
	if got := f.GetName(); got != lighthouseName {
		t.Errorf("GetFeature(%v) = %q, want %q", lighthouse, got, lighthouseName)
	}
	if err := srv.stop(t); err != nil {
		t.Errorf("serve() = %v, want nil", err)
	}

	var want []string
	for attempt := 1; attempt <= 2; attempt++ {
		e := faultinject.Event{Kind: faultinject.KindAbort, Method: getFeature, Seq: uint64(attempt),
			Attempt: attempt, Rule: 0, Code: codes.Unavailable}
		want = append(want, e.String())
	}
	if diff := cmp.Diff(want, srv.faults()); diff != "" {
		t.Errorf("serve(first=2:unavailable) logged faults (-want +got):\n%s", diff)
	}
	stats := faultinject.Stats{Calls: 3, Aborts: 2, AbortsByCode: map[codes.Code]uint64{codes.Unavailable: 2}}
	wantStats := name + ": stats: " + formatStats(stats, faultinject.ConnStats{Accepted: 1}, interceptors.ServerStats{Calls: 3})
	if got := srv.lastLine(); got != wantStats {
		t.Errorf("serve(first=2:unavailable) last line = %q, want %q", got, wantStats)
	}
}

// TestHealthAndReflection checks health and reflection, on a server that
// fails every route guide call: they are never faulted.
func TestHealthAndReflection(t *testing.T) {
	srv := startServe(t, "--faults", "unavailable", "--seed", "1")
	conn := dial(t, srv.addr)
	ctx, cancel := context.WithTimeout(context.Background(), stubserver.DefaultTimeout)
	defer cancel()

	if _, err := pb.NewRouteGuideClient(conn).GetFeature(ctx, lighthouse); status.Code(err) != codes.Unavailable {
		t.Errorf("GetFeature(%v) with --faults unavailable = %v, want code %v", lighthouse, err, codes.Unavailable)
	}

	hc := healthpb.NewHealthClient(conn)
	for _, tc := range []struct {
		service  string
		want     healthpb.HealthCheckResponse_ServingStatus
		wantCode codes.Code
	}{
		{"", healthpb.HealthCheckResponse_SERVING, codes.OK},
		{routeGuide, healthpb.HealthCheckResponse_SERVING, codes.OK},
		{"no.Such", healthpb.HealthCheckResponse_SERVICE_UNKNOWN, codes.NotFound},
	} {
		resp, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: tc.service})
		if status.Code(err) != tc.wantCode {
			t.Errorf("Health.Check(%q) = %v, want code %v", tc.service, err, tc.wantCode)
			continue
		}
		if got := resp.GetStatus(); err == nil && got != tc.want {
			t.Errorf("Health.Check(%q) = %v, want %v", tc.service, got, tc.want)
		}
	}

	got := listServices(ctx, t, conn)
	for _, want := range []string{routeGuide, "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"} {
		if !slices.Contains(got, want) {
			t.Errorf("reflection ListServices() = %q, want it to hold %q", got, want)
		}
	}

	if err := srv.stop(t); err != nil {
		t.Errorf("serve() = %v, want nil", err)
	}
	e := faultinject.Event{Kind: faultinject.KindAbort, Method: getFeature, Seq: 1, Attempt: 1, Code: codes.Unavailable}
	if diff := cmp.Diff([]string{e.String()}, srv.faults()); diff != "" {
		t.Errorf("serve(unavailable) logged faults (-want +got), want one for GetFeature only:\n%s", diff)
	}
}

// listServices asks the server's reflection service for its services.
func listServices(ctx context.Context, t *testing.T, conn *grpc.ClientConn) []string {
	t.Helper()
	stream, err := refpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatalf("ServerReflectionInfo() = %v", err)
	}
	req := &refpb.ServerReflectionRequest{MessageRequest: &refpb.ServerReflectionRequest_ListServices{}}
	if err := stream.Send(req); err != nil {
		t.Fatalf("ServerReflectionInfo Send(list services) = %v", err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatalf("ServerReflectionInfo Recv() = %v", err)
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatalf("ServerReflectionInfo CloseSend() = %v", err)
	}
	if _, err := stream.Recv(); err != io.EOF {
		t.Errorf("ServerReflectionInfo Recv() after CloseSend = %v, want io.EOF", err)
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	return names
}

// TestHealthNotServingOnStop watches the route guide's health while the
// server stops: it turns NOT_SERVING before the server goes away.
func TestHealthNotServingOnStop(t *testing.T) {
	srv := startServe(t, "--seed", "1")
	conn := dial(t, srv.addr)
	ctx, cancel := context.WithTimeout(context.Background(), stubserver.DefaultTimeout)
	defer cancel()
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	watch, err := healthpb.NewHealthClient(conn).Watch(watchCtx, &healthpb.HealthCheckRequest{Service: routeGuide})
	if err != nil {
		t.Fatalf("Health.Watch(%q) = %v", routeGuide, err)
	}
	want := []healthpb.HealthCheckResponse_ServingStatus{healthpb.HealthCheckResponse_SERVING, healthpb.HealthCheckResponse_NOT_SERVING}
	for i, w := range want {
		if i == 1 {
			srv.cancel() // as a signal would
		}
		resp, err := watch.Recv()
		if err != nil {
			t.Fatalf("Health.Watch(%q) Recv() #%d = %v, want %v", routeGuide, i+1, err, w)
		}
		if got := resp.GetStatus(); got != w {
			t.Errorf("Health.Watch(%q) Recv() #%d = %v, want %v", routeGuide, i+1, got, w)
		}
	}
	stopWatch() // the graceful stop waits for the watch to end
	if err := srv.stop(t); err != nil {
		t.Errorf("serve() = %v, want nil", err)
	}
}

// TestSeedRepeats makes the same 200 calls to three servers faulting half
// of them: two with the same seed fail the very same calls, the third, with
// another seed, fails others.
func TestSeedRepeats(t *testing.T) {
	const calls = 200
	outcomes := func(seed string) []codes.Code {
		srv := startServe(t, "--faults", "unavailable=50%", "--seed", seed)
		conn := dial(t, srv.addr, grpc.WithDisableRetry())
		client := pb.NewRouteGuideClient(conn)
		ctx, cancel := context.WithTimeout(context.Background(), stubserver.DefaultTimeout)
		defer cancel()
		got := make([]codes.Code, 0, calls)
		for range calls {
			_, err := client.GetFeature(ctx, lighthouse)
			if ctx.Err() != nil {
				t.Fatalf("%d calls did not end within %v", calls, stubserver.DefaultTimeout)
			}
			got = append(got, status.Code(err))
		}
		if err := srv.stop(t); err != nil {
			t.Errorf("serve(--seed %s) = %v, want nil", seed, err)
		}
		return got
	}
	first, again, other := outcomes("7"), outcomes("7"), outcomes("8")

	failed := 0
	for _, c := range first {
		if c == codes.Unavailable {
			failed++
		}
	}
	// The chance of a count outside [50, 150] is below 10^-12.
	if failed < 50 || failed > 150 {
		t.Errorf("--faults unavailable=50%% --seed 7 failed %d of %d calls, want about half", failed, calls)
	}
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("two runs with --seed 7 differ (-first +second):\n%s", diff)
	}
	if slices.Equal(first, other) {
		t.Errorf("runs with --seed 7 and --seed 8 failed the same %d calls, want different calls", failed)
	}
}

// TestConnFaults refuses every connection: the client sees UNAVAILABLE and
// the refusal is logged.
func TestConnFaults(t *testing.T) {
	srv := startServe(t, "--conn-faults", "refuse=100%", "--seed", "1")
	conn := dial(t, srv.addr)
	ctx, cancel := context.WithTimeout(context.Background(), stubserver.DefaultTimeout)
	defer cancel()
	if _, err := pb.NewRouteGuideClient(conn).GetFeature(ctx, lighthouse); status.Code(err) != codes.Unavailable {
		t.Errorf("GetFeature(%v) with --conn-faults refuse=100%% = %v, want code %v", lighthouse, err, codes.Unavailable)
	}
	conn.Close()
	if err := srv.stop(t); err != nil {
		t.Errorf("serve() = %v, want nil", err)
	}
	faults := srv.faults()
	want := faultinject.KindConnRefuse.String() + " seq=1 "
	if len(faults) == 0 || !strings.HasPrefix(faults[0], want) {
		t.Errorf("serve(refuse=100%%) logged faults %q, want the first to start with %q", faults, want)
	}
	for _, f := range faults {
		if !strings.HasPrefix(f, faultinject.KindConnRefuse.String()+" ") {
			t.Errorf("serve(refuse=100%%) logged fault %q, want only %v", f, faultinject.KindConnRefuse)
		}
	}
}

// TestHeaderFaults checks that fault-control headers are obeyed only with
// --header-faults, which also prints a warning. Without it, a call asking
// for an abort and an hour's delay is served at once, and neither counted
// nor logged as a fault or a rejected header: the headers are not read.
func TestHeaderFaults(t *testing.T) {
	tests := []struct {
		args        []string
		wantCode    codes.Code
		wantWarning bool
		wantStats   faultinject.Stats
	}{
		{[]string{"--seed", "1"}, codes.OK, false, faultinject.Stats{Calls: 1}},
		{[]string{"--seed", "1", "--header-faults"}, codes.Unavailable, true,
			faultinject.Stats{Calls: 1, Aborts: 1, AbortsByCode: map[codes.Code]uint64{codes.Unavailable: 1}}},
	}
	for _, tc := range tests {
		srv := startServe(t, tc.args...)
		conn := dial(t, srv.addr, grpc.WithDisableRetry())
		ctx, cancel := context.WithTimeout(context.Background(), stubserver.DefaultTimeout)
		ctx = metadata.AppendToOutgoingContext(ctx, faultinject.HeaderAbortCode, strconv.Itoa(int(codes.Unavailable)))
		if !tc.wantWarning {
			// Obeyed, the delay would outlast the test.
			ctx = metadata.AppendToOutgoingContext(ctx, faultinject.HeaderDelay, strconv.Itoa(int(faultinject.MaxHeaderDelay.Milliseconds())))
		}
		_, err := pb.NewRouteGuideClient(conn).GetFeature(ctx, lighthouse)
		cancel()
		if got := status.Code(err); got != tc.wantCode {
			t.Errorf("serve(%q): GetFeature(%s: 14) = %v, want code %v", tc.args, faultinject.HeaderAbortCode, err, tc.wantCode)
		}
		if err := srv.stop(t); err != nil {
			t.Errorf("serve(%q) = %v, want nil", tc.args, err)
		}
		if got := strings.Contains(srv.stderr.String(), "warning: --header-faults"); got != tc.wantWarning {
			t.Errorf("serve(%q) stderr = %q, warning %t, want %t", tc.args, srv.stderr.String(), got, tc.wantWarning)
		}
		want := name + ": stats: " + formatStats(tc.wantStats, faultinject.ConnStats{Accepted: 1}, interceptors.ServerStats{Calls: 1})
		if got := srv.lastLine(); got != want {
			t.Errorf("serve(%q) last line = %q, want %q", tc.args, got, want)
		}
		if !tc.wantWarning && len(srv.faults()) != 0 {
			t.Errorf("serve(%q) logged faults %q, want none", tc.args, srv.faults())
		}
	}
}

// TestMaxActiveFaults holds one call in an hour-long delay: with
// --max-active-faults 1 the next call's fault is skipped and it succeeds.
func TestMaxActiveFaults(t *testing.T) {
	srv := startServe(t, "--faults", "delay=1h", "--max-active-faults", "1", "--seed", "1")
	client := pb.NewRouteGuideClient(dial(t, srv.addr))
	ctx, cancel := context.WithTimeout(context.Background(), stubserver.DefaultTimeout)
	defer cancel()

	heldCtx, release := context.WithCancel(ctx)
	defer release()
	held := make(chan error, 1)
	go func() {
		_, err := client.GetFeature(heldCtx, lighthouse)
		held <- err
	}()
	delayed := faultinject.Event{Kind: faultinject.KindDelay, Method: getFeature, Seq: 1, Attempt: 1, Delay: time.Hour}
	if !srv.stderr.waitFor(ctx, delayed.String()+"\n") {
		t.Fatalf("serve(delay=1h) logged %q, want %q within %v", srv.stderr.String(), delayed, stubserver.DefaultTimeout)
	}
	if _, err := client.GetFeature(ctx, lighthouse); err != nil {
		t.Errorf("GetFeature(%v) while the only fault slot is taken = %v, want success", lighthouse, err)
	}
	release()
	if err := <-held; status.Code(err) != codes.Canceled {
		t.Errorf("GetFeature(%v) in a 1h delay, cancelled = %v, want code %v", lighthouse, err, codes.Canceled)
	}
	if err := srv.stop(t); err != nil {
		t.Errorf("serve() = %v, want nil", err)
	}
	skipped := faultinject.Event{Kind: faultinject.KindSkipped, Method: getFeature, Seq: 2, Attempt: 1}
	if diff := cmp.Diff([]string{delayed.String(), skipped.String()}, srv.faults()); diff != "" {
		t.Errorf("serve(delay=1h, --max-active-faults 1) logged faults (-want +got):\n%s", diff)
	}
}

// TestAdmin changes the faults of a running server through the admin
// service, which serves only callers with the token of --admin-token-file,
// and checks that a server without --admin has no such service at all.
func TestAdmin(t *testing.T) {
	const token = "admin-test-token-91d0"
	tokenFile := writeTokenFile(t, token+"\n")
	ctx, cancel := context.WithTimeout(context.Background(), stubserver.DefaultTimeout)
	defer cancel()
	withToken := grpc.WithPerRPCCredentials(admin.InsecureBearerToken(token))

	plain := startServe(t, "--seed", "1")
	plainConn := dial(t, plain.addr, withToken)
	_, err := adminpb.NewFaultAdminClient(plainConn).GetStats(ctx, &adminpb.GetStatsRequest{})
	if status.Code(err) != codes.Unimplemented {
		t.Errorf("FaultAdmin.GetStats() with a token, without --admin = %v, want code %v", err, codes.Unimplemented)
	}
	if got, svc := listServices(ctx, t, plainConn), adminpb.FaultAdmin_ServiceDesc.ServiceName; slices.Contains(got, svc) {
		t.Errorf("reflection ListServices() without --admin = %q, want no %q", got, svc)
	}

	args := []string{"--admin", "--admin-token-file", tokenFile, "--faults", "unavailable", "--seed", "1"}
	srv := startServe(t, args...)
	anonymous := dial(t, srv.addr)
	if got, want := listServices(ctx, t, anonymous), adminpb.FaultAdmin_ServiceDesc.ServiceName; !slices.Contains(got, want) {
		t.Errorf("reflection ListServices() with --admin = %q, want it to hold %q", got, want)
	}
	for _, tc := range []struct {
		name string
		conn *grpc.ClientConn
	}{
		{"no token", anonymous},
		{"wrong token", dial(t, srv.addr, grpc.WithPerRPCCredentials(admin.InsecureBearerToken("not-"+token)))},
	} {
		_, err := adminpb.NewFaultAdminClient(tc.conn).SetRules(ctx, &adminpb.SetRulesRequest{Rules: &adminpb.SetRulesRequest_Spec{Spec: ""}})
		if status.Code(err) != codes.Unauthenticated {
			t.Errorf("FaultAdmin.SetRules(spec \"\") with %s = %v, want code %v", tc.name, err, codes.Unauthenticated)
		}
	}

	conn := dial(t, srv.addr, grpc.WithDisableRetry(), withToken)
	client, ctl := pb.NewRouteGuideClient(conn), adminpb.NewFaultAdminClient(conn)
	if _, err := client.GetFeature(ctx, lighthouse); status.Code(err) != codes.Unavailable {
		t.Errorf("GetFeature(%v) with --faults unavailable, after refused SetRules = %v, want code %v", lighthouse, err, codes.Unavailable)
	}
	rules, err := ctl.GetRules(ctx, &adminpb.GetRulesRequest{})
	if err != nil {
		t.Fatalf("FaultAdmin.GetRules() = %v", err)
	}
	if got, want := rules.GetSpec(), "unavailable"; got != want {
		t.Errorf("FaultAdmin.GetRules().Spec = %q, want %q", got, want)
	}
	if rules.ConnSpec == nil {
		t.Errorf("FaultAdmin.GetRules().ConnSpec = nil, want the fault listener's (\"\")")
	}
	if _, err := ctl.SetRules(ctx, &adminpb.SetRulesRequest{Rules: &adminpb.SetRulesRequest_Spec{Spec: ""}}); err != nil {
		t.Fatalf("FaultAdmin.SetRules(spec \"\") = %v", err)
	}
	if _, err := client.GetFeature(ctx, lighthouse); err != nil {
		t.Errorf("GetFeature(%v) after the rules were cleared = %v, want success", lighthouse, err)
	}
	stats, err := ctl.GetStats(ctx, &adminpb.GetStatsRequest{})
	if err != nil {
		t.Fatalf("FaultAdmin.GetStats() = %v", err)
	}
	// Admin and reflection calls are not faulted and not counted.
	if got, want := [2]uint64{stats.GetCalls(), stats.GetAborts()}, [2]uint64{2, 1}; got != want {
		t.Errorf("FaultAdmin.GetStats() calls, aborts = %v, want %v", got, want)
	}
	if err := srv.stop(t); err != nil {
		t.Errorf("serve(--admin) = %v, want nil", err)
	}
	if !strings.Contains(srv.stderr.String(), "warning: --admin") {
		t.Errorf("serve(--admin) stderr = %q, want a warning about --admin", srv.stderr.String())
	}
	for _, out := range []string{srv.stdout.String(), srv.stderr.String()} {
		if strings.Contains(out, token) {
			t.Errorf("serve(%q) printed %q, want no token", args, out)
		}
	}
}

// A secret never prints, whatever the verb.
func TestSecretRedacted(t *testing.T) {
	const token = "tok-58e1"
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		if got := fmt.Sprintf(verb, secret(token)); strings.Contains(got, token) {
			t.Errorf("fmt.Sprintf(%q, secret(%q)) = %q, want no token", verb, token, got)
		}
	}
}

// writeTokenFile writes content to a new file of t.TempDir(), readable by
// its owner only, and returns its path.
func writeTokenFile(t *testing.T, content string) string {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "admin-token-")
	if err != nil {
		t.Fatalf("os.CreateTemp() = %v", err)
	}
	if _, err := f.WriteString(content); err != nil {
		t.Fatalf("write %s = %v", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("close %s = %v", f.Name(), err)
	}
	return f.Name()
}

// TestProcess runs the real binary, as a deployment would, and checks what
// a client sees of the admin service and of fault-control headers.
func TestProcess(t *testing.T) {
	bin := buildServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), stubserver.DefaultTimeout)
	defer cancel()
	svc := adminpb.FaultAdmin_ServiceDesc.ServiceName
	token := rand.Text()
	tokenFile := writeTokenFile(t, token+"\n")
	withToken := grpc.WithPerRPCCredentials(admin.InsecureBearerToken(token))

	t.Run("admin serves only the token", func(t *testing.T) {
		s := proctest.StartServer(t, bin, "--seed", "1", "--admin", "--admin-token-file", tokenFile)
		anonymous := dial(t, s.Addr)
		if _, err := adminpb.NewFaultAdminClient(anonymous).GetStats(ctx, &adminpb.GetStatsRequest{}); status.Code(err) != codes.Unauthenticated {
			t.Errorf("FaultAdmin.GetStats() without the token = %v, want code %v", err, codes.Unauthenticated)
		}
		if got := listServices(ctx, t, anonymous); !slices.Contains(got, svc) {
			t.Errorf("reflection ListServices() with --admin = %q, want it to hold %q", got, svc)
		}
		if _, err := adminpb.NewFaultAdminClient(dial(t, s.Addr, withToken)).GetStats(ctx, &adminpb.GetStatsRequest{}); err != nil {
			t.Errorf("FaultAdmin.GetStats() with the token = %v, want nil error", err)
		}
		if err := s.Stop(t, syscall.SIGTERM); err != nil {
			t.Errorf("%s %q after SIGTERM = %v, want exit status 0; stderr:\n%s", name, s.Args, err, s.Stderr())
		}
		for _, out := range []string{s.Stdout(), s.Stderr(), strings.Join(s.Args, " ")} {
			if strings.Contains(out, token) {
				t.Errorf("%s %q: %q holds the token, want it only in the file", name, s.Args, out)
			}
		}
	})

	t.Run("no admin without --admin", func(t *testing.T) {
		s := proctest.StartServer(t, bin, "--seed", "1")
		conn := dial(t, s.Addr, withToken)
		if _, err := adminpb.NewFaultAdminClient(conn).GetStats(ctx, &adminpb.GetStatsRequest{}); status.Code(err) != codes.Unimplemented {
			t.Errorf("FaultAdmin.GetStats() with a token, without --admin = %v, want code %v", err, codes.Unimplemented)
		}
		if got := listServices(ctx, t, conn); slices.Contains(got, svc) {
			t.Errorf("reflection ListServices() without --admin = %q, want no %q", got, svc)
		}
	})

	t.Run("--admin needs a token file", func(t *testing.T) {
		for _, args := range [][]string{{"--admin"}, {"--admin-token-file", tokenFile}, {"--admin", "--admin-token-file", tokenFile + ".missing"}} {
			out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), "--admin-token-file") {
				t.Errorf("%s %q = %v, output %q, want exit status 2 and a message naming --admin-token-file", name, args, err, out)
			}
		}
	})

	t.Run("header faults off", func(t *testing.T) {
		s := proctest.StartServer(t, bin, "--seed", "1")
		hctx := metadata.AppendToOutgoingContext(ctx,
			faultinject.HeaderAbortCode, strconv.Itoa(int(codes.Unavailable)),
			faultinject.HeaderDelay, strconv.Itoa(int(faultinject.MaxHeaderDelay.Milliseconds())))
		if _, err := pb.NewRouteGuideClient(dial(t, s.Addr, grpc.WithDisableRetry())).GetFeature(hctx, lighthouse); err != nil {
			t.Errorf("GetFeature() with fault headers, without --header-faults = %v, want success", err)
		}
		if err := s.Stop(t, syscall.SIGTERM); err != nil {
			t.Errorf("%s %q after SIGTERM = %v, want exit status 0; stderr:\n%s", name, s.Args, err, s.Stderr())
		}
		want := name + ": stats: " + formatStats(faultinject.Stats{Calls: 1}, faultinject.ConnStats{Accepted: 1}, interceptors.ServerStats{Calls: 1})
		if got := s.WaitStdout(t, name+": stats: "); got != want {
			t.Errorf("%s %q stats line = %q, want %q", name, s.Args, got, want)
		}
		if strings.Contains(s.Stderr(), name+": fault: ") {
			t.Errorf("%s %q stderr = %q, want no fault logged", name, s.Args, s.Stderr())
		}
	})
}

// TestServeGrace checks that a stream left open does not hold up the
// shutdown for longer than the grace period.
func TestServeGrace(t *testing.T) {
	cfg, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatalf("parseFlags(nil) = %v", err)
	}
	cfg.grace = stubserver.ShortTimeout
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("net.Listen() = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() { done <- serve(ctx, lis, cfg, io.Discard, &stderr) }()

	timeout, stopTimeout := context.WithTimeout(context.Background(), stubserver.DefaultTimeout)
	defer stopTimeout()
	conn := dial(t, lis.Addr().String())
	chat, err := pb.NewRouteGuideClient(conn).RouteChat(timeout)
	if err != nil {
		t.Fatalf("RouteChat() = %v", err)
	}
	// The reply to the second note proves the handler is running.
	n := &pb.RouteNote{Location: &pb.Point{}, Message: "hold"}
	for range 2 {
		if err := chat.Send(n); err != nil {
			t.Fatalf("RouteChat Send() = %v", err)
		}
	}
	if _, err := chat.Recv(); err != nil {
		t.Fatalf("RouteChat Recv() = %v", err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve() with an open stream = %v, want nil", err)
		}
	case <-timeout.Done():
		t.Fatalf("serve() did not return within %v of cancel", stubserver.DefaultTimeout)
	}
	if _, err := chat.Recv(); status.Code(err) != codes.Unavailable {
		t.Errorf("RouteChat Recv() after the grace period = %v, want code %v", err, codes.Unavailable)
	}
	if !strings.Contains(stderr.String(), "closing them") {
		t.Errorf("serve() stderr = %q, want a note that running calls were closed", stderr.String())
	}
}

// testServer is serve running in the test's process on 127.0.0.1.
type testServer struct {
	addr           string
	stdout, stderr *syncBuffer
	cancel         context.CancelFunc
	done           chan error
	stopOnce       sync.Once
	err            error
}

// startServe parses args as the command line, serves on a free port of
// 127.0.0.1, and stops the server in t.Cleanup if the test did not.
func startServe(t *testing.T, args ...string) *testServer {
	t.Helper()
	cfg, err := parseFlags(args, io.Discard)
	if err != nil {
		t.Fatalf("parseFlags(%q) = %v", args, err)
	}
	// Tests stop the server only once their calls ended; a call left
	// running is a bug that the grace would hide.
	cfg.grace = stubserver.DefaultTimeout
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("net.Listen() = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &testServer{addr: lis.Addr().String(), stdout: &syncBuffer{}, stderr: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- serve(ctx, lis, cfg, s.stdout, s.stderr) }()
	t.Cleanup(func() { s.stop(t) })
	return s
}

// stop stops the server, once, and returns what serve returned.
func (s *testServer) stop(t *testing.T) error {
	s.stopOnce.Do(func() {
		s.cancel()
		timer := time.NewTimer(2 * stubserver.DefaultTimeout)
		defer timer.Stop()
		select {
		case s.err = <-s.done:
		case <-timer.C:
			t.Errorf("serve() did not return within %v of cancel", 2*stubserver.DefaultTimeout)
		}
	})
	return s.err
}

// faults returns the faults logged, without the line prefix.
func (s *testServer) faults() []string {
	var out []string
	for _, line := range strings.Split(s.stderr.String(), "\n") {
		if f, ok := strings.CutPrefix(line, name+": fault: "); ok {
			out = append(out, f)
		}
	}
	return out
}

// lastLine returns the last line printed on stdout.
func (s *testServer) lastLine() string {
	lines := strings.Split(strings.TrimSuffix(s.stdout.String(), "\n"), "\n")
	return lines[len(lines)-1]
}

// dial connects to addr without TLS and closes the connection in t.Cleanup.
func dial(t *testing.T, addr string, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	opts = append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, opts...)
	conn, err := grpc.NewClient(addr, opts...)
	if err != nil {
		t.Fatalf("grpc.NewClient(%q) = %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// syncBuffer is a bytes.Buffer that other goroutines can write while the
// test reads, and that tells waiters when it grows.
type syncBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced by every Write
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.changed != nil {
		close(b.changed)
		b.changed = nil
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor reports whether the buffer holds s before ctx is done.
func (b *syncBuffer) waitFor(ctx context.Context, s string) bool {
	for {
		b.mu.Lock()
		found := strings.Contains(b.buf.String(), s)
		if b.changed == nil {
			b.changed = make(chan struct{})
		}
		changed := b.changed
		b.mu.Unlock()
		if found {
			return true
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return false
		}
	}
}
