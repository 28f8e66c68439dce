package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/resilience-go/grpc-resilience/cmd/grpc-chaos/internal/report"
	"github.com/resilience-go/grpc-resilience/faultinject/admin"
	"github.com/resilience-go/grpc-resilience/faultinject/adminpb"
	"github.com/resilience-go/grpc-resilience/internal/proctest"
)

// The fleet tests run grpc-chaos against three routeguide-server processes
// on 127.0.0.1, as "--target a,b,c" does in real use.
const (
	// routeGuideServerPkg is the routeguide-server package, relative to
	// this test's directory.
	routeGuideServerPkg = "../../examples/routeguide/cmd/routeguide-server"
	// fleetStopTimeout bounds the wait for grpc-chaos's output after it was
	// killed.
	fleetStopTimeout = proctest.StopTimeout
	// fleetAdminTimeout bounds one GetStats call.
	fleetAdminTimeout = 2 * time.Second
	// fleetPollInterval and fleetPollTimeout bound the watch on the server
	// to be stopped.
	fleetPollInterval = 5 * time.Millisecond
	fleetPollTimeout  = 60 * time.Second
	// fleetStopAfter is the number of calls the server to be stopped must
	// have seen first. Round robin gives it about a third of the ~1100
	// attempts of the first row (1000 unary calls, ~10% retried), so it
	// is reached during the first of the four rows.
	fleetStopAfter = 300
	// fleetFaults is each server's fault plan: every attempt fails
	// UNAVAILABLE with probability 10%, which a6-retry retries.
	fleetFaults = "unavailable=10%"
)

// fleetKinds are the rows of a run with --policies a6-retry, in order.
var fleetKinds = []string{"unary", "server-stream", "client-stream", "bidi"}

// TestFleetOneServerStopped runs grpc-chaos's a6-retry policy against a
// fleet of three servers and stops the second one gracefully (SIGTERM)
// early in the run: in-flight calls finish, new connections are refused,
// and the retries of the remaining calls land on the two servers left.
// Success must stay at 99.9% or more in every row.
func TestFleetOneServerStopped(t *testing.T) {
	bin := proctest.Build(t, routeGuideServerPkg)
	token, tokenFile := fleetAdminToken(t)
	servers := make([]*proctest.Server, 3)
	admins := make([]adminpb.FaultAdminClient, 3)
	addrs := make([]string, 3)
	for i := range servers {
		servers[i] = proctest.StartServer(t, bin, "--faults", fleetFaults, "--seed", strconv.Itoa(i+1), "--admin", "--admin-token-file", tokenFile)
		addrs[i] = servers[i].Addr
	}
	var conn2 *grpc.ClientConn
	for i, s := range servers {
		conn, err := grpc.NewClient(s.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithPerRPCCredentials(admin.InsecureBearerToken(token)))
		if err != nil {
			t.Fatalf("grpc.NewClient(%q) = %v, want nil", s.Addr, err)
		}
		t.Cleanup(func() { conn.Close() })
		admins[i] = adminpb.NewFaultAdminClient(conn)
		if i == 1 {
			conn2 = conn
		}
	}

	const calls = 1000
	args := []string{"--target", strings.Join(addrs, ","), "--policies", "a6-retry",
		"--calls", strconv.Itoa(calls), "--concurrency", "8", "--json"}
	done := startChaos(t, args...)

	// Wait until server 2 has served a good share of the run, then stop
	// it. Its counter lives in another process, which can tell no channel
	// of ours when it moves: reading it at a fixed interval, bounded in
	// time and in count, is the only way to watch it.
	ticker := time.NewTicker(fleetPollInterval)
	defer ticker.Stop()
	deadline := time.NewTimer(fleetPollTimeout)
	defer deadline.Stop()
	var seen uint64
	for polls := 0; seen < fleetStopAfter; polls++ {
		if polls > int(fleetPollTimeout/fleetPollInterval) {
			t.Fatalf("server 2 GetStats().Calls = %d after %d polls, want %d or more", seen, polls, fleetStopAfter)
		}
		select {
		case res := <-done:
			t.Fatalf("grpc-chaos %q exited (status %d) when server 2 GetStats().Calls = %d, want %d or more first; stderr:\n%s",
				args, res.code, seen, fleetStopAfter, res.stderr)
		case <-deadline.C:
			t.Fatalf("server 2 GetStats().Calls = %d after %v, want %d or more", seen, fleetPollTimeout, fleetStopAfter)
		case <-ticker.C:
		}
		seen = fleetCalls(t, admins[1], "server 2")
	}
	conn2.Close() // so that server 2's graceful stop waits for no stream of ours
	stats2 := stopFleetServer(t, servers[1])
	t.Logf("server 2 stopped after GetStats().Calls = %d; its stats line: %s", seen, stats2)

	// The run must still be going: the stop has to happen mid-run.
	select {
	case res := <-done:
		t.Fatalf("grpc-chaos %q exited (status %d) before server 2 finished stopping, want it still running; stderr:\n%s",
			args, res.code, res.stderr)
	default:
	}
	atStop := []uint64{fleetCalls(t, admins[0], "server 1"), 0, fleetCalls(t, admins[2], "server 3")}

	res := <-done
	if res.code != 0 {
		t.Fatalf("grpc-chaos %q = exit status %d, want 0; stderr:\n%s", args, res.code, res.stderr)
	}
	final := []uint64{fleetCalls(t, admins[0], "server 1"), fleetStatsCalls(t, stats2), fleetCalls(t, admins[2], "server 3")}
	t.Logf("calls seen by server 1, 2, 3: %d (%d before server 2 stopped), %d, %d (%d before server 2 stopped)",
		final[0], atStop[0], final[1], final[2], atStop[2])

	rep := decodeReport(t, res.stdout)
	checkFleetRows(t, rep, calls)
	attempts := 0
	for _, r := range rep.Rows {
		attempts += r.Attempts
	}
	t.Logf("attempts: %d made by the client, %d seen by the servers", attempts, final[0]+final[1]+final[2])

	// If server 2 stopped after a share f of the run's attempts A, servers
	// 1 and 3 each saw about f·A/3 calls before and (1-f)·A/2 after: more
	// after than before means f < 0.6, so the stop came before the last
	// row (the last quarter of the run) started.
	for _, i := range []int{0, 2} {
		before, after := atStop[i], final[i]-atStop[i]
		if after <= before {
			t.Errorf("server %d calls after server 2 stopped = %d, want more than the %d before", i+1, after, before)
		}
	}
	if final[1] < fleetStopAfter {
		t.Errorf("server 2 stats calls = %d, want %d or more", final[1], fleetStopAfter)
	}
}

// TestFleetOneServerDown runs grpc-chaos's a6-retry policy against a fleet
// of three addresses one of which is closed from the start: the server
// there was started and stopped before the run. Success must stay at 99.9%
// or more in every row.
func TestFleetOneServerDown(t *testing.T) {
	bin := proctest.Build(t, routeGuideServerPkg)
	token, tokenFile := fleetAdminToken(t)
	servers := make([]*proctest.Server, 3)
	addrs := make([]string, 3)
	for i := range servers {
		servers[i] = proctest.StartServer(t, bin, "--faults", fleetFaults, "--seed", strconv.Itoa(11+i), "--admin", "--admin-token-file", tokenFile)
		addrs[i] = servers[i].Addr
	}
	stats2 := stopFleetServer(t, servers[1])
	t.Logf("server 2 stopped before the run; its stats line: %s", stats2)

	const calls = 500
	args := []string{"--target", strings.Join(addrs, ","), "--policies", "a6-retry",
		"--calls", strconv.Itoa(calls), "--concurrency", "8", "--json"}
	res := <-startChaos(t, args...)
	if res.code != 0 {
		t.Fatalf("grpc-chaos %q = exit status %d, want 0; stderr:\n%s", args, res.code, res.stderr)
	}
	rep := decodeReport(t, res.stdout)
	checkFleetRows(t, rep, calls)

	var seen [3]uint64
	for _, i := range []int{0, 2} {
		conn, err := grpc.NewClient(addrs[i], grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithPerRPCCredentials(admin.InsecureBearerToken(token)))
		if err != nil {
			t.Fatalf("grpc.NewClient(%q) = %v, want nil", addrs[i], err)
		}
		seen[i] = fleetCalls(t, adminpb.NewFaultAdminClient(conn), fmt.Sprintf("server %d", i+1))
		conn.Close()
		if seen[i] == 0 {
			t.Errorf("server %d GetStats().Calls = 0, want calls", i+1)
		}
	}
	if n := fleetStatsCalls(t, stats2); n != 0 {
		t.Errorf("server 2 stats calls = %d, want 0: it stopped before the run", n)
	}
	t.Logf("calls seen by server 1, 2, 3: %d, 0 (down), %d", seen[0], seen[2])
}

// checkFleetRows checks that every row of rep ran calls calls under
// a6-retry, at least 99.9% of them OK and none with wrong data, and logs
// what each row did.
func checkFleetRows(t *testing.T, rep *report.Report, calls int) {
	t.Helper()
	if len(rep.Rows) != len(fleetKinds) {
		t.Errorf("report has %d rows, want %d", len(rep.Rows), len(fleetKinds))
	}
	for _, kind := range fleetKinds {
		r := rowOf(t, rep, kind, "a6-retry")
		t.Logf("%s/a6-retry: success %.4f (%d/%d), %.3f attempts per call, codes %s, attempt codes %s, stops %s",
			kind, r.SuccessRate, r.OK, r.Calls, r.AttemptsPerCall, countList(r.Codes), countList(r.AttemptCodes), countList(r.Stops))
		if r.Calls != calls {
			t.Errorf("%s/a6-retry Calls = %d, want %d", kind, r.Calls, calls)
		}
		// 1000·OK >= 999·Calls is success >= 99.9%, without float error.
		if 1000*r.OK < 999*r.Calls {
			t.Errorf("%s/a6-retry success = %d/%d (codes %s), want 99.9%% or more", kind, r.OK, r.Calls, countList(r.Codes))
		}
		if r.WrongData != 0 {
			t.Errorf("%s/a6-retry WrongData = %d, want 0", kind, r.WrongData)
		}
	}
}

// stopFleetServer sends the server SIGTERM, waits for it to exit, and
// returns its stats line.
func stopFleetServer(t *testing.T, s *proctest.Server) string {
	t.Helper()
	if err := s.Stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("routeguide-server (pid %d) after SIGTERM = %v, want exit status 0; stderr:\n%s", s.Pid(), err, s.Stderr())
	}
	return s.WaitStdout(t, "routeguide-server: stats: ")
}

// fleetStatsCalls returns calls=N of a routeguide-server stats line.
func fleetStatsCalls(t *testing.T, line string) uint64 {
	t.Helper()
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, "calls="); ok {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				t.Fatalf("stats line %q: calls=%q, want a count", line, v)
			}
			return n
		}
	}
	t.Fatalf("stats line %q has no calls=, want one", line)
	return 0
}

// fleetAdminToken returns a fresh admin token and the path of a file of
// t.TempDir() that holds it, for routeguide-server's --admin-token-file.
// The servers listen on 127.0.0.1, so clients send it in plaintext, with
// admin.InsecureBearerToken.
func fleetAdminToken(t *testing.T) (token, path string) {
	t.Helper()
	token = rand.Text()
	path = filepath.Join(t.TempDir(), "admin-token")
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		t.Fatalf("os.WriteFile(%s) = %v, want nil", path, err)
	}
	return token, path
}

// fleetCalls returns the route guide calls a server's injector has seen,
// read through its admin service.
func fleetCalls(t *testing.T, c adminpb.FaultAdminClient, who string) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), fleetAdminTimeout)
	defer cancel()
	st, err := c.GetStats(ctx, &adminpb.GetStatsRequest{})
	if err != nil {
		t.Fatalf("%s GetStats() = %v, want nil", who, err)
	}
	return st.GetCalls()
}

// startChaos starts the grpc-chaos binary with args and returns a channel
// that receives what it did once it exits. The run is bounded by
// binTimeout, after which only that process is killed; t.Cleanup kills it
// too if the test ends first, and waits for it.
func startChaos(t *testing.T, args ...string) <-chan chaosRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), binTimeout)
	cmd := exec.CommandContext(ctx, chaosBin, args...)
	cmd.WaitDelay = fleetStopTimeout // bounds Wait's copying of the output after a kill
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start grpc-chaos %q = %v, want nil", args, err)
	}
	done := make(chan chaosRun, 1)
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		err := cmd.Wait()
		res := chaosRun{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
		var exit *exec.ExitError
		if err != nil && (!errors.As(err, &exit) || ctx.Err() != nil) {
			res.code = -1
			res.stderr += fmt.Sprintf("\n(grpc-chaos: %v; context: %v)", err, ctx.Err())
		}
		done <- res
	}()
	t.Cleanup(func() {
		cancel() // kills the process if it still runs
		<-exited
	})
	return done
}
