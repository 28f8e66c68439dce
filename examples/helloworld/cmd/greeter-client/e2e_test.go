package main

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/resilience-go/grpc-resilience/internal/proctest"
)

// The end-to-end test runs the README's two commands as real processes:
// greeter-server on a free port of 127.0.0.1 with the README's faults and
// seed, then greeter-client against it.
const (
	serverPkg = "../greeter-server"
	clientPkg = "../greeter-client"
	// readmeFaults and readmeSeed are the server flags of
	// examples/helloworld/README.md.
	readmeFaults = "unavailable=30%"
	readmeSeed   = "1"
	// clientTimeout bounds one run of greeter-client.
	clientTimeout = 30 * time.Second
)

// readmeOutput is greeter-client's output in examples/helloworld/README.md:
// with seed 1, the first attempts of SayHello and of SayHelloBidiStream
// fail with UNAVAILABLE and are retried.
const readmeOutput = `SayHello: "Hello world" (attempts: 2)
SayHelloStreamReply: "Hello world", "Bonjour world", "Hola world" (attempts: 1)
SayHelloBidiStream: "Hello world", "Hello Alice", "Hello Bob" (attempts: 2)
`

func TestREADME(t *testing.T) {
	serverBin := proctest.Build(t, serverPkg)
	clientBin := proctest.Build(t, clientPkg)
	srv := proctest.StartServer(t, serverBin, "--faults", readmeFaults, "--seed", readmeSeed)

	res := proctest.Run(t, clientTimeout, clientBin, "--addr", srv.Addr)
	if res.Code != 0 {
		t.Fatalf("greeter-client --addr %s = exit status %d, want 0; stderr:\n%s", srv.Addr, res.Code, res.Stderr)
	}
	if diff := cmp.Diff(readmeOutput, res.Stdout); diff != "" {
		t.Errorf("greeter-client --addr %s output mismatch (-want +got):\n%s", srv.Addr, diff)
	}
	if res.Stderr != "" {
		t.Errorf("greeter-client --addr %s stderr = %q, want nothing", srv.Addr, res.Stderr)
	}

	if err := srv.Stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("greeter-server after SIGTERM = %v, want exit status 0; stderr:\n%s", err, srv.Stderr())
	}
	const wantStats = "greeter-server: stats: calls=5 aborts=2 (UNAVAILABLE=2) delays=0"
	lines := strings.Split(strings.TrimSuffix(srv.Stdout(), "\n"), "\n")
	if got := lines[len(lines)-1]; got != wantStats {
		t.Errorf("greeter-server last line = %q, want %q", got, wantStats)
	}
	if n := strings.Count(srv.Stderr(), "greeter-server: fault: abort UNAVAILABLE"); n != 2 {
		t.Errorf("greeter-server logged %d faults, want 2; stderr:\n%s", n, srv.Stderr())
	}
}

// TestBadFlags checks that both commands exit 2 with one line on stderr
// naming the flag and its value.
func TestBadFlags(t *testing.T) {
	serverBin := proctest.Build(t, serverPkg)
	clientBin := proctest.Build(t, clientPkg)
	for _, tc := range []struct {
		bin     string
		args    []string
		wantErr []string
	}{
		{serverBin, []string{"--port", "70000"}, []string{"greeter-server: ", "--port", "70000"}},
		{serverBin, []string{"--faults", "unavailable=130%"}, []string{"greeter-server: ", "--faults", "130%"}},
		{serverBin, []string{"--seed", "x"}, []string{"greeter-server: ", "-seed", `"x"`}},
		{clientBin, []string{"--service-config", "/nonexistent/sc.json"}, []string{"greeter-client: ", "--service-config", "/nonexistent/sc.json"}},
		{clientBin, []string{"--timeout", "-1s"}, []string{"greeter-client: ", "--timeout", "-1s"}},
	} {
		res := proctest.Run(t, clientTimeout, tc.bin, tc.args...)
		if res.Code != 2 || strings.Count(res.Stderr, "\n") != 1 || res.Stdout != "" {
			t.Errorf("%s %q = exit status %d, stdout %q, stderr %q; want 2, nothing, one line",
				tc.bin, tc.args, res.Code, res.Stdout, res.Stderr)
		}
		for _, w := range tc.wantErr {
			if !strings.Contains(res.Stderr, w) {
				t.Errorf("%s %q stderr = %q, want it to contain %q", tc.bin, tc.args, res.Stderr, w)
			}
		}
	}
}
