package main

import (
	"context"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/examples/routeguide/server"
	"github.com/resilience-go/grpc-resilience/internal/stubserver"
)

const (
	// requireGrpcurlEnv, set to 1, turns a missing grpcurl from a skip into
	// a failure; CI sets it.
	requireGrpcurlEnv = "GRPC_RESILIENCE_REQUIRE_GRPCURL"
	// buildTimeout bounds building the server binary.
	buildTimeout = 3 * time.Minute
	// scriptTimeout bounds a run of grpcurl.sh: a build and a few calls.
	scriptTimeout = 5 * time.Minute
	// scriptStopDelay is how long the script gets, after a SIGTERM at
	// scriptTimeout, to stop the server it started.
	scriptStopDelay = 30 * time.Second
	// adminService is the admin service's full name.
	adminService = "grpcresilience.faultinject.v1.FaultAdmin"
)

// TestGrpcurl drives the real server binary with the real grpcurl, through
// reflection only: list, describe, calls, an injected fault, and the admin
// service with and without its token.
func TestGrpcurl(t *testing.T) {
	grpcurl := findGrpcurl(t)
	bin := buildServer(t)

	addr := startProcess(t, bin, "--port", "0", "--seed", "1")
	out, code := runGrpcurl(t, grpcurl, "-plaintext", addr, "list")
	if code != 0 {
		t.Fatalf("grpcurl list = exit %d, output:\n%s", code, out)
	}
	for _, want := range []string{routeGuide, "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("grpcurl list printed:\n%s\nwant a line %q", out, want)
		}
	}

	out, code = runGrpcurl(t, grpcurl, "-plaintext", addr, "describe", routeGuide)
	if code != 0 {
		t.Errorf("grpcurl describe %s = exit %d, output:\n%s", routeGuide, code, out)
	}
	for _, want := range []string{"rpc GetFeature", "rpc ListFeatures", "rpc RecordRoute", "rpc RouteChat"} {
		if !strings.Contains(out, want) {
			t.Errorf("grpcurl describe %s printed:\n%s\nwant it to contain %q", routeGuide, out, want)
		}
	}

	// The first point is in grpc-go's route guide database, not in ours:
	// the server answers with the point and no name.
	db := server.New()
	for _, p := range []*pb.Point{{Latitude: 409146138, Longitude: -746188906}, lighthouse} {
		f, err := db.GetFeature(context.Background(), p)
		if err != nil {
			t.Fatalf("server.GetFeature(%v) = %v", p, err)
		}
		data := `{"latitude":` + strconv.Itoa(int(p.GetLatitude())) + `,"longitude":` + strconv.Itoa(int(p.GetLongitude())) + `}`
		out, code := runGrpcurl(t, grpcurl, "-plaintext", "-d", data, addr, routeGuide+"/GetFeature")
		if code != 0 {
			t.Errorf("grpcurl -d %s GetFeature = exit %d, output:\n%s", data, code, out)
			continue
		}
		wantName := `"name": ` + strconv.Quote(f.GetName())
		if got := strings.Contains(out, wantName); got != (f.GetName() != "") {
			t.Errorf("grpcurl -d %s GetFeature printed:\n%s\nwant %q: %t", data, out, wantName, f.GetName() != "")
		}
		if want := `"latitude": ` + strconv.Itoa(int(p.GetLatitude())); !strings.Contains(out, want) {
			t.Errorf("grpcurl -d %s GetFeature printed:\n%s\nwant it to contain %q", data, out, want)
		}
	}

	out, code = runGrpcurl(t, grpcurl, "-plaintext", "-d", `{"service":"routeguide.RouteGuide"}`, addr, "grpc.health.v1.Health/Check")
	if code != 0 || !strings.Contains(out, `"status": "SERVING"`) {
		t.Errorf("grpcurl Health/Check = exit %d, output:\n%s\nwant exit 0 and SERVING", code, out)
	}

	faulty := startProcess(t, bin, "--port", "0", "--seed", "1", "--faults", "unavailable")
	out, code = runGrpcurl(t, grpcurl, "-plaintext", "-d", `{"latitude":101203450,"longitude":-398765430}`,
		faulty, routeGuide+"/GetFeature")
	if code == 0 || !strings.Contains(out, "Code: Unavailable") {
		t.Errorf("grpcurl GetFeature against --faults unavailable = exit %d, output:\n%s\nwant a non-zero exit and Code: Unavailable", code, out)
	}

	// Without --admin there is no admin service.
	out, code = runGrpcurl(t, grpcurl, "-plaintext", addr, adminService+"/GetStats")
	if code == 0 || strings.Contains(out, "Code: Unauthenticated") {
		t.Errorf("grpcurl %s/GetStats without --admin = exit %d, output:\n%s\nwant a non-zero exit, not Unauthenticated", adminService, code, out)
	}
	if out, _ := runGrpcurl(t, grpcurl, "-plaintext", addr, "list"); strings.Contains(out, adminService) {
		t.Errorf("grpcurl list without --admin printed:\n%s\nwant no %s", out, adminService)
	}

	// With it, grpcurl gets the token from the environment, so that it is
	// on no command line.
	token := rand.Text()
	tokenFile := writeTokenFile(t, token+"\n")
	adminAddr := startProcess(t, bin, "--port", "0", "--seed", "1", "--admin", "--admin-token-file", tokenFile)
	out, code = runGrpcurl(t, grpcurl, "-plaintext", adminAddr, "list")
	if code != 0 || !strings.Contains(out, adminService+"\n") {
		t.Errorf("grpcurl list with --admin = exit %d, output:\n%s\nwant a line %q", code, out, adminService)
	}
	out, code = runGrpcurl(t, grpcurl, "-plaintext", adminAddr, adminService+"/GetStats")
	if code == 0 || !strings.Contains(out, "Code: Unauthenticated") {
		t.Errorf("grpcurl %s/GetStats without the token = exit %d, output:\n%s\nwant a non-zero exit and Code: Unauthenticated", adminService, code, out)
	}
	withToken := []string{"-plaintext", "-expand-headers", "-rpc-header", "authorization: Bearer ${ADMIN_TOKEN}"}
	out, code = runGrpcurlEnv(t, []string{"ADMIN_TOKEN=" + token}, grpcurl, append(withToken, adminAddr, adminService+"/GetRules")...)
	if code != 0 || !strings.Contains(out, `"json"`) {
		t.Errorf("grpcurl %s/GetRules with the token = exit %d, output:\n%s\nwant exit 0 and the rules", adminService, code, out)
	}
	out, code = runGrpcurlEnv(t, []string{"ADMIN_TOKEN=not-" + token}, grpcurl, append(withToken, adminAddr, adminService+"/GetRules")...)
	if code == 0 || !strings.Contains(out, "Code: Unauthenticated") {
		t.Errorf("grpcurl %s/GetRules with a wrong token = exit %d, output:\n%s\nwant a non-zero exit and Code: Unauthenticated", adminService, code, out)
	}
}

// TestGrpcurlScript runs examples/routeguide/grpcurl.sh: it builds and
// starts the server, calls it, refuses the admin call without the token and
// answers it with the token, and never prints the token.
func TestGrpcurlScript(t *testing.T) {
	grpcurl := findGrpcurl(t)
	script, err := filepath.Abs(filepath.Join("..", "..", "grpcurl.sh"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", script, "--seed", "1")
	// A SIGTERM lets the script's trap stop the server it started; SIGKILL
	// would leave it running.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = scriptStopDelay
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(grpcurl)+string(filepath.ListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	t.Logf("grpcurl.sh output:\n%s", out)
	if err != nil {
		t.Fatalf("grpcurl.sh = %v, want success", err)
	}
	for _, want := range []string{
		`"name": "Harbour Lighthouse"`,
		"Code: Unauthenticated",
		`"calls": "2"`, // GetStats with the token: the two GetFeature calls
		name + ": warning: --admin is on",
		name + ": stats: ",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("grpcurl.sh printed no %q", want)
		}
	}
	// The token is 64 hex digits: no such run may be printed.
	if m := regexp.MustCompile(`[0-9a-f]{64}`).FindString(string(out)); m != "" {
		t.Errorf("grpcurl.sh printed %q, want no token", m)
	}
}

// findGrpcurl returns the path of grpcurl, from PATH or $(go env
// GOPATH)/bin. Without it the test is skipped, or fails when
// GRPC_RESILIENCE_REQUIRE_GRPCURL=1.
func findGrpcurl(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("grpcurl"); err == nil {
		return p
	}
	ctx, cancel := context.WithTimeout(context.Background(), stubserver.DefaultTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "env", "GOPATH").Output(); err == nil {
		for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
			p := filepath.Join(dir, "bin", "grpcurl")
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	const msg = "grpcurl not found on PATH nor in $(go env GOPATH)/bin; install it with: go install github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.4"
	if os.Getenv(requireGrpcurlEnv) == "1" {
		t.Fatalf("%s (%s=1)", msg, requireGrpcurlEnv)
	}
	t.Skip(msg)
	return ""
}

// buildServer builds this command into a temporary directory.
func buildServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build -o %s . = %v, output:\n%s", bin, err, out)
	}
	return bin
}

// startProcess starts the server binary with args (which must make it
// listen on 127.0.0.1), returns the address from its startup line, and in
// t.Cleanup stops exactly that process: SIGTERM, then SIGKILL if it has not
// exited within stubserver.DefaultTimeout.
func startProcess(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s %q = %v", bin, args, err)
	}
	pid := cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Errorf("kill -TERM %d = %v", pid, err)
		}
		timer := time.NewTimer(stubserver.DefaultTimeout)
		defer timer.Stop()
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("%s %q (pid %d) after SIGTERM = %v, want exit 0; stderr:\n%s", name, args, pid, err, stderr)
			}
			if !strings.Contains(stdout.String(), name+": stats: ") {
				t.Errorf("%s %q (pid %d) printed:\n%s\nwant a stats line when stopped", name, args, pid, stdout)
			}
		case <-timer.C:
			t.Errorf("%s %q (pid %d) still running %v after SIGTERM; killing it", name, args, pid, stubserver.DefaultTimeout)
			_ = cmd.Process.Kill()
			<-exited
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), stubserver.DefaultTimeout)
	defer cancel()
	if !stdout.waitFor(ctx, "\n") {
		t.Fatalf("%s %q (pid %d) printed no startup line within %v; stderr:\n%s", name, args, pid, stubserver.DefaultTimeout, stderr)
	}
	line, _, _ := strings.Cut(stdout.String(), "\n")
	addr, _, ok := cutListening(line)
	if !ok || !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("%s %q (pid %d) printed %q, want %q, an address on 127.0.0.1 and a seed", name, args, pid, line, name+": listening on")
	}
	return addr
}

// runGrpcurl runs grpcurl with args, bounded by stubserver.DefaultTimeout,
// and returns its combined output and exit status.
func runGrpcurl(t *testing.T, grpcurl string, args ...string) (string, int) {
	t.Helper()
	return runGrpcurlEnv(t, nil, grpcurl, args...)
}

// runGrpcurlEnv is runGrpcurl with env added to grpcurl's environment.
func runGrpcurlEnv(t *testing.T, env []string, grpcurl string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stubserver.DefaultTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, grpcurl, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	t.Logf("grpcurl %s:\n%s", strings.Join(args, " "), out)
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case ctx.Err() != nil:
		t.Fatalf("grpcurl %q did not end within %v", args, stubserver.DefaultTimeout)
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	default:
		t.Fatalf("grpcurl %q = %v", args, err)
	}
	return "", -1
}
