package deployment

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"text/template"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/internal/proctest"
	"github.com/resilience-go/grpc-resilience/retry"
)

// nginxConf is the nginx configuration the tests run, a text/template.
//
//go:embed nginx.conf.tmpl
var nginxConf string

const (
	// requireNginxEnv, set to 1, makes a missing nginx fail the nginx
	// tests instead of skipping them; .ci/run sets it.
	requireNginxEnv = "GRPC_RESILIENCE_REQUIRE_NGINX"
	// nginxReadTimeout is the timeout port's grpc_read_timeout: how long
	// nginx waits for a server's response headers before answering 504.
	// Each call to the slow server costs it. A healthy server that is as
	// slow on a loaded machine gets a 504 too; the test counts the
	// timeouts nginx logs rather than assume which attempts met one.
	nginxReadTimeout = "1s"
	// slowFaults makes a server answer after nginxReadTimeout: every call
	// waits 5 s, unless nginx gives up and cancels it first.
	slowFaults = "delay=5s"
	// nginxCalls is the number of calls of a run through nginx, made one
	// after the other: nginx's round robin then sends the n-th attempt to
	// server n mod 3. timeoutCalls is the number for runs that meet the
	// slow server, whose every third attempt takes nginxReadTimeout.
	nginxCalls   = 30
	timeoutCalls = 9
	// nginxStartTries bounds the starts of nginx on other ports.
	nginxStartTries = 3
)

// nginx is a running nginx in front of the servers of a test.
type nginx struct {
	proc *proctest.Process
	// listen is the usual proxy, noRetry the one with nginx's own retry
	// off, and timeout the one with a short read timeout; see
	// nginx.conf.tmpl.
	listen, noRetry, timeout string
}

// nginxConfig is what nginx.conf.tmpl needs.
type nginxConfig struct {
	Prefix                               string
	Upstreams                            []string
	Listen, ListenNoRetry, ListenTimeout string
	ReadTimeout                          string
}

// requireNginx returns nginx's path, or skips the test when it is not
// installed, unless requireNginxEnv says it must be.
func requireNginx(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("nginx")
	if err == nil {
		return path
	}
	if os.Getenv(requireNginxEnv) == "1" {
		t.Fatalf("nginx not found on PATH (%v), and %s=1 says it must be there; install Debian's nginx package", err, requireNginxEnv)
	}
	t.Skipf("nginx not found on PATH (%v): install it (Debian: apt-get install nginx) to run this test; %s=1 makes this a failure", err, requireNginxEnv)
	return ""
}

// startNginx starts nginx with nginx.conf.tmpl in front of upstreams, on
// free ports of 127.0.0.1, and returns once it listens. It stops that
// nginx (its master process, which stops its worker) in t.Cleanup.
func startNginx(t *testing.T, upstreams []string) *nginx {
	t.Helper()
	bin := requireNginx(t)
	prefix := t.TempDir()
	// nginx's worker runs as an unprivileged user when the test runs as
	// root; it must be able to reach the temporary paths.
	if err := os.Chmod(prefix, 0o755); err != nil {
		t.Fatalf("chmod %s = %v, want nil", prefix, err)
	}
	tmpl, err := template.New("nginx.conf").Option("missingkey=error").Parse(nginxConf)
	if err != nil {
		t.Fatalf("parse nginx.conf.tmpl = %v, want nil", err)
	}
	// nginx cannot listen on port 0: the ports are picked free, and
	// another process may take one before nginx binds it. Then nginx
	// exits, and another try picks other ports.
	for try := 1; ; try++ {
		ports := freePorts(t, 3)
		cfg := nginxConfig{
			Prefix:        prefix,
			Upstreams:     upstreams,
			Listen:        ports[0],
			ListenNoRetry: ports[1],
			ListenTimeout: ports[2],
			ReadTimeout:   nginxReadTimeout,
		}
		var conf strings.Builder
		if err := tmpl.Execute(&conf, cfg); err != nil {
			t.Fatalf("render nginx.conf.tmpl = %v, want nil", err)
		}
		confPath := filepath.Join(prefix, "nginx.conf")
		if err := os.WriteFile(confPath, []byte(conf.String()), 0o644); err != nil {
			t.Fatalf("write %s = %v, want nil", confPath, err)
		}
		// -e stderr: nginx opens its compiled-in error log before it reads
		// the configuration, and that file may not be writable.
		p := proctest.Start(t, bin, "-p", prefix, "-c", confPath, "-e", "stderr")
		t.Cleanup(func() {
			if p.Running() {
				// SIGTERM: fast shutdown of the master and its worker.
				if err := p.Stop(t, syscall.SIGTERM); err != nil {
					t.Errorf("nginx (pid %d) after SIGTERM = %v, want exit status 0; stderr:\n%s", p.Pid(), err, p.Stderr())
				}
			}
		})
		// The master opens the listening sockets before it starts its
		// worker.
		_, err := p.StderrLine("start worker processes")
		if err == nil {
			return &nginx{proc: p, listen: cfg.Listen, noRetry: cfg.ListenNoRetry, timeout: cfg.ListenTimeout}
		}
		if try == nginxStartTries || !strings.Contains(p.Stderr(), "Address already in use") {
			t.Fatalf("nginx, try %d of %d: %v; stderr:\n%s", try, nginxStartTries, err, p.Stderr())
		}
		t.Logf("nginx, try %d of %d: a port was taken; stderr:\n%s", try, nginxStartTries, p.Stderr())
	}
}

// freePorts returns n distinct free ports of 127.0.0.1, as addresses. They
// are free when the function returns; nginx binds them a moment later.
func freePorts(t *testing.T, n int) []string {
	t.Helper()
	out := make([]string, n)
	for i := range out {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("net.Listen(tcp, 127.0.0.1:0) = %v, want nil", err)
		}
		defer l.Close() // held until all are picked, so they differ
		out[i] = l.Addr().String()
	}
	return out
}

// TestNginxHealthy runs every RPC kind through nginx to three healthy
// servers, with the library on the client, and checks that each answer is
// the one the server gives directly.
func TestNginxHealthy(t *testing.T) {
	requireNginx(t)
	servers := startServers(t, "", "", "")
	ngx := startNginx(t, addrs(servers))
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()

	want, err := tour(ctx, plainClient(t, servers[0].Addr), &pb.Point{Latitude: 1, Longitude: 1})
	if err != nil {
		t.Fatalf("tour directly to %s = %v, want nil", servers[0].Addr, err)
	}
	c, attempts := libraryClient(t, ngx.listen, "")
	got, err := tour(ctx, c, &pb.Point{Latitude: 2, Longitude: 2})
	if err != nil {
		t.Fatalf("tour through nginx = %v, want nil", err)
	}
	if diff := cmp.Diff(want, got, protocmp.Transform(), protocmp.IgnoreFields(&pb.RouteNote{}, "location")); diff != "" {
		t.Errorf("tour through nginx mismatch (-direct +through nginx):\n%s", diff)
	}
	if n := attempts.Load(); n != 4 {
		t.Errorf("attempts through nginx = %d, want 4: one per call", n)
	}
}

// TestNginxUpstreamDown stops one of three servers. nginx's own retry
// passes a request that meets it (connection refused, never sent) to the
// next server, so the usual proxy hides it; with nginx's retry off, nginx
// answers HTTP 502, the client sees UNAVAILABLE, and the library retries
// it: through nginx, to the next server of the round robin.
func TestNginxUpstreamDown(t *testing.T) {
	requireNginx(t)
	servers := startServers(t, "", "", "")
	ngx := startNginx(t, addrs(servers))
	if err := servers[1].Stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("routeguide-server (pid %d) after SIGTERM = %v, want exit status 0", servers[1].Pid(), err)
	}

	t.Run("nginx retries", func(t *testing.T) {
		res := getFeatures(t, plainClient(t, ngx.listen), nginxCalls)
		if res.ok != nginxCalls {
			t.Errorf("plain client through nginx: %d of %d calls OK (codes %v), want all: nginx skips the stopped server", res.ok, nginxCalls, res.codes)
		}
		refused := "connect() failed (111: Connection refused) while connecting to upstream"
		if !strings.Contains(ngx.proc.Stderr(), refused) || !strings.Contains(ngx.proc.Stderr(), servers[1].Addr) {
			t.Errorf("nginx error log has no %q for %s, want it: nginx must have met the stopped server; log:\n%s", refused, servers[1].Addr, ngx.proc.Stderr())
		}
	})

	t.Run("502 is UNAVAILABLE", func(t *testing.T) {
		res := getFeatures(t, plainClient(t, ngx.noRetry), nginxCalls)
		// Every third attempt meets the stopped server.
		if want := nginxCalls / 3; res.failed() != want {
			t.Errorf("plain client, nginx's retry off: %d of %d calls failed (codes %v), want %d", res.failed(), nginxCalls, res.codes, want)
		}
		checkOnlyCode(t, res, codes.Unavailable, "502")
		t.Logf("plain client through nginx, one of three servers down, nginx's retry off: %d/%d OK, codes %v", res.ok, nginxCalls, res.codes)
	})

	t.Run("library retries 502", func(t *testing.T) {
		c, attempts := libraryClient(t, ngx.noRetry, "")
		res := getFeatures(t, c, nginxCalls)
		if res.ok != nginxCalls {
			t.Errorf("library client, nginx's retry off: %d of %d calls OK (codes %v, errors %q), want all", res.ok, nginxCalls, res.codes, res.errs)
		}
		// A call whose attempt met the stopped server is retried once:
		// the round robin's next server is up.
		n := attempts.Load()
		if n <= nginxCalls || n > nginxCalls+nginxCalls/2+1 {
			t.Errorf("library client, nginx's retry off: %d attempts for %d calls, want between %d and %d", n, nginxCalls, nginxCalls+1, nginxCalls+nginxCalls/2+1)
		}
		t.Logf("library client through nginx, one of three servers down: %d/%d OK in %d attempts", res.ok, nginxCalls, n)
	})
}

// TestNginxTimeout makes one of three servers slow. nginx waits
// nginxReadTimeout for its response headers, then answers HTTP 504: the
// client sees UNAVAILABLE, and the library retries it.
func TestNginxTimeout(t *testing.T) {
	requireNginx(t)
	servers := startServers(t, slowFaults, "", "")
	ngx := startNginx(t, addrs(servers))
	// timeouts returns how many upstream timeouts nginx has logged: it logs
	// one before it answers 504.
	timeouts := func() int {
		return strings.Count(ngx.proc.Stderr(), "upstream timed out")
	}

	t.Run("504 is UNAVAILABLE", func(t *testing.T) {
		before := timeouts()
		res := getFeatures(t, plainClient(t, ngx.timeout), timeoutCalls)
		timedOut := timeouts() - before
		// The slow server gets every third attempt; a healthy one may time
		// out too on a loaded machine.
		if res.failed() != timedOut || timedOut < timeoutCalls/3 {
			t.Errorf("plain client, slow server: %d of %d calls failed (codes %v), nginx timed out %d times, want as many failures as timeouts, and %d or more",
				res.failed(), timeoutCalls, res.codes, timedOut, timeoutCalls/3)
		}
		checkOnlyCode(t, res, codes.Unavailable, "504")
		t.Logf("plain client through nginx, one of three servers slow: %d/%d OK, codes %v, %d timeouts logged", res.ok, timeoutCalls, res.codes, timedOut)
	})

	t.Run("library retries 504", func(t *testing.T) {
		c, attempts := libraryClient(t, ngx.timeout, "")
		before := timeouts()
		res := getFeatures(t, c, timeoutCalls)
		timedOut := timeouts() - before
		if res.ok != timeoutCalls {
			t.Errorf("library client, slow server: %d of %d calls OK (codes %v, errors %q), want all", res.ok, timeoutCalls, res.codes, res.errs)
		}
		// Every timeout, and nothing else, made the library try again.
		if n := attempts.Load(); n != int64(timeoutCalls+timedOut) || timedOut < timeoutCalls/3 {
			t.Errorf("library client, slow server: %d attempts for %d calls, nginx timed out %d times, want calls + timeouts attempts, and %d or more timeouts",
				n, timeoutCalls, timedOut, timeoutCalls/3)
		}
		t.Logf("library client through nginx, one of three servers slow: %d/%d OK in %d attempts", res.ok, timeoutCalls, attempts.Load())
	})
}

// TestNginxUpstreamDiesMidStream kills the server of a RouteChat stream
// (SIGKILL, as a crash) after the client got an answer: the call is
// committed, nginx resets the stream, the client sees INTERNAL, and the
// library does not retry it, even though its policy lists INTERNAL: a
// retry could show the caller that answer twice.
func TestNginxUpstreamDiesMidStream(t *testing.T) {
	requireNginx(t)
	servers := startServers(t, "", "", "")
	ngx := startNginx(t, addrs(servers))
	cfg := strings.Replace(retryConfig, `["UNAVAILABLE"]`, `["UNAVAILABLE", "INTERNAL"]`, 1)
	c, attempts := libraryClient(t, ngx.listen, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()

	stream, err := c.RouteChat(ctx)
	if err != nil {
		t.Fatalf("RouteChat() = %v, want nil", err)
	}
	at := &pb.Point{Latitude: 3, Longitude: 3}
	for _, text := range []string{"first", "second"} {
		if err := stream.Send(&pb.RouteNote{Location: at, Message: text}); err != nil {
			t.Fatalf("RouteChat Send(%q) = %v, want nil", text, err)
		}
	}
	note, err := stream.Recv()
	if err != nil || note.GetMessage() != "first" {
		t.Fatalf("RouteChat Recv() = %v, %v, want the note \"first\"", note, err)
	}

	// The one server that saw a call serves this stream.
	var victim *proctest.Server
	for _, s := range servers {
		if n := adminCalls(t, s); n == 1 && victim == nil {
			victim = s
		} else if n != 0 {
			t.Fatalf("server %s saw %d calls, want one server with 1 and the others 0", s.Addr, n)
		}
	}
	if victim == nil {
		t.Fatalf("no server saw the RouteChat call, want one")
	}
	err = victim.Stop(t, syscall.SIGKILL)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("routeguide-server (pid %d) after SIGKILL = %v, want killed by SIGKILL", victim.Pid(), err)
	}

	note, err = stream.Recv()
	if code := status.Code(err); code != codes.Internal {
		t.Fatalf("RouteChat Recv() after the server died = %v, %v, want code INTERNAL", note, err)
	}
	n, reason, ok := retry.Info(err)
	if !ok || n != 1 || reason != retry.Committed {
		t.Errorf("retry.Info(%v) = %d, %v, %v, want 1 attempt, stopped by %v", err, n, reason, ok, retry.Committed)
	}
	if got := attempts.Load(); got != 1 {
		t.Errorf("attempts = %d, want 1: a committed call is never retried", got)
	}
	for _, s := range servers {
		if s != victim {
			if n := adminCalls(t, s); n != 0 {
				t.Errorf("server %s saw %d calls after the other died, want 0: no retry", s.Addr, n)
			}
		}
	}
	t.Logf("RouteChat through nginx after its server died: %v", err)
}

// runResult is what a run of GetFeature calls did.
type runResult struct {
	calls int
	ok    int
	codes map[codes.Code]int
	errs  []string // the messages of the failed calls
}

func (r runResult) failed() int { return r.calls - r.ok }

// getFeatures makes n GetFeature calls, one after the other, each bounded
// by callTimeout, and checks every answer.
func getFeatures(t *testing.T, c pb.RouteGuideClient, n int) runResult {
	t.Helper()
	res := runResult{calls: n, codes: make(map[codes.Code]int)}
	for range n {
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		f, err := c.GetFeature(ctx, harbour)
		cancel()
		res.codes[status.Code(err)]++
		if err != nil {
			res.errs = append(res.errs, err.Error())
			continue
		}
		if f.GetName() != "Harbour Lighthouse" {
			t.Fatalf("GetFeature(%v) = %v, want the Harbour Lighthouse", harbour, f)
		}
		res.ok++
	}
	return res
}

// checkOnlyCode checks that every failed call of res ended with code, and
// that their messages name the HTTP status nginx answered.
func checkOnlyCode(t *testing.T, res runResult, code codes.Code, httpStatus string) {
	t.Helper()
	if res.ok+res.codes[code] != res.calls {
		t.Errorf("codes = %v, want only OK and %v", res.codes, code)
	}
	for _, msg := range res.errs {
		if !strings.Contains(msg, fmt.Sprintf("HTTP status code received from server: %s", httpStatus)) {
			t.Errorf("error %q, want one about HTTP status %s from nginx", msg, httpStatus)
		}
	}
}
