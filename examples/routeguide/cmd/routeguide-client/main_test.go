package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/internal/stubserver"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// wantTour is the output against a fresh server with the embedded database.
const wantTour = `GetFeature (10.1203450, -39.8765430): "Harbour Lighthouse"
GetFeature (10.1300000, -39.8900000): nothing there
ListFeatures (10.1000000, -39.8700000) to (10.1200000, -39.8500000): 5 features
  "Customs House" at (10.1165010, -39.8690480)
  "Old Town Clock Tower" at (10.1142880, -39.8654120)
  "Chapel of the Tides" at (10.1120540, -39.8601930)
  "Rope Makers' Lane" at (10.1098730, -39.8587660)
  "Saltworks" at (10.1076150, -39.8540210)
RecordRoute of 6 points: 6 points, 5 features, 6615 metres
RouteChat: sending 5 notes
  earlier note at (10.1203450, -39.8765430): "the light is out"
  earlier note at (10.1300000, -39.8900000): "whales to the north"
  earlier note at (10.1203450, -39.8765430): "the light is out"
  earlier note at (10.1203450, -39.8765430): "fixed it"
`

func runWithTimeout(t *testing.T, args []string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stubserver.DefaultTimeout)
	defer cancel()
	var out, errOut bytes.Buffer
	err = run(ctx, args, &out, &errOut)
	return out.String(), errOut.String(), err
}

// TestRunNoArgs is the README's command: no flags, an embedded server.
func TestRunNoArgs(t *testing.T) {
	stdout, stderr, err := runWithTimeout(t, nil)
	if err != nil {
		t.Fatalf("run() = %v, want nil; stderr:\n%s", err, stderr)
	}
	for _, rpc := range []string{"GetFeature", "ListFeatures", "RecordRoute", "RouteChat"} {
		if !strings.Contains(stdout, rpc) {
			t.Errorf("run() output does not mention %s:\n%s", rpc, stdout)
		}
	}
	if diff := cmp.Diff(wantTour, stdout); diff != "" {
		t.Errorf("run() output mismatch (-want +got):\n%s", diff)
	}
	if !strings.Contains(stderr, "started a route guide server on 127.0.0.1:") {
		t.Errorf("run() stderr = %q, want a note about the embedded server on 127.0.0.1", stderr)
	}
}

func TestRunAddr(t *testing.T) {
	srv := stubserver.StartTCP(t, stubserver.Handlers{})
	stdout, stderr, err := runWithTimeout(t, []string{"--addr", srv.Addr()})
	if err != nil {
		t.Fatalf("run(--addr %s) = %v, want nil", srv.Addr(), err)
	}
	if diff := cmp.Diff(wantTour, stdout); diff != "" {
		t.Errorf("run(--addr %s) output mismatch (-want +got):\n%s", srv.Addr(), diff)
	}
	if stderr != "" {
		t.Errorf("run(--addr %s) stderr = %q, want nothing", srv.Addr(), stderr)
	}
}

func TestRunCallFails(t *testing.T) {
	tests := []struct {
		name     string
		h        stubserver.Handlers
		args     []string
		wantCode codes.Code
	}{
		{
			name: "server error",
			h: stubserver.Handlers{
				RecordRoute: func(s grpc.ClientStreamingServer[pb.Point, pb.RouteSummary]) error {
					return status.Error(codes.Unavailable, "down")
				},
			},
			wantCode: codes.Unavailable,
		},
		{
			// ListFeatures never answers, so --timeout must end it.
			name: "per-call timeout",
			h: stubserver.Handlers{
				ListFeatures: func(_ *pb.Rectangle, s grpc.ServerStreamingServer[pb.Feature]) error {
					<-s.Context().Done()
					return s.Context().Err()
				},
			},
			args:     []string{"--timeout", stubserver.ShortTimeout.String()},
			wantCode: codes.DeadlineExceeded,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := stubserver.StartTCP(t, tc.h)
			args := append([]string{"--addr", srv.Addr()}, tc.args...)
			_, _, err := runWithTimeout(t, args)
			if got := status.Code(err); got != tc.wantCode {
				t.Errorf("run(%q) = %v, want code %v", args, err, tc.wantCode)
			}
			if errors.As(err, new(usageError)) {
				t.Errorf("run(%q) = %v, a usage error; want a call error", args, err)
			}
		})
	}
}

func TestRunUsage(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		wantUsage bool
		wantOut   string
	}{
		{name: "unknown flag", args: []string{"--nope"}, wantUsage: true},
		{name: "bad duration", args: []string{"--timeout", "soon"}, wantUsage: true},
		{name: "zero timeout", args: []string{"--timeout", "0s"}, wantUsage: true},
		{name: "negative timeout", args: []string{"--timeout", "-1s"}, wantUsage: true},
		{name: "positional argument", args: []string{"go"}, wantUsage: true},
		{name: "help", args: []string{"--help"}, wantOut: "-timeout duration"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout bytes.Buffer
			err := run(context.Background(), tc.args, &stdout, io.Discard)
			if got := errors.As(err, new(usageError)); got != tc.wantUsage {
				t.Errorf("run(%q) = %v, usage error %t, want %t", tc.args, err, got, tc.wantUsage)
			}
			if !tc.wantUsage && err != nil {
				t.Errorf("run(%q) = %v, want nil", tc.args, err)
			}
			if !strings.Contains(stdout.String(), tc.wantOut) {
				t.Errorf("run(%q) printed %q, want it to contain %q", tc.args, stdout.String(), tc.wantOut)
			}
		})
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
