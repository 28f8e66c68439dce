package deployment

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
	"google.golang.org/grpc/status"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
)

const (
	// lbCalls is the number of calls of the load balancing run, half
	// GetFeature and half RecordRoute.
	lbCalls = 1000
	// lbConcurrency is how many calls run at once.
	lbConcurrency = 8
	// lbKillAfter is the number of finished calls after which one server
	// is killed.
	lbKillAfter = 300
	// lbRoutePoints is the number of points of each RecordRoute.
	lbRoutePoints = 8
)

// lbConfig is retryConfig with round_robin: each attempt, retries
// included, goes to the next server.
var lbConfig = strings.Replace(retryConfig, `"methodConfig"`, `"loadBalancingConfig": [{"round_robin": {}}],
  "methodConfig"`, 1)

// TestLoadBalancingOneServerKilled runs calls through the library against
// three routeguide-server processes behind one target (a manual resolver
// with the three addresses, round_robin) and kills one server with SIGKILL,
// a crash, after lbKillAfter calls. Calls in flight on it, and attempts
// picked for it before grpc-go notices it is gone, fail with UNAVAILABLE
// before they commit (a RecordRoute is answered only after its last point),
// and the library retries them on the others, replaying a RecordRoute's
// points. At least 99.9% of the calls must succeed, each with the right
// answer.
func TestLoadBalancingOneServerKilled(t *testing.T) {
	servers := startServers(t, "", "", "")
	r := manual.NewBuilderWithScheme("deployment")
	var state resolver.State
	for _, a := range addrs(servers) {
		state.Addresses = append(state.Addresses, resolver.Address{Addr: a})
	}
	r.InitialState(state)
	c, attempts := libraryClient(t, r.Scheme()+":///routeguide", lbConfig, grpc.WithResolvers(r))

	// A RecordRoute of lbRoutePoints points along the meridian, and what
	// the server answers to it.
	route := make([]*pb.Point, lbRoutePoints)
	for i := range route {
		route[i] = &pb.Point{Latitude: harbour.Latitude + int32(i)*1000, Longitude: harbour.Longitude}
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	want, err := recordRoute(ctx, plainClient(t, servers[0].Addr), route)
	cancel()
	if err != nil {
		t.Fatalf("RecordRoute directly to %s = %v, want nil", servers[0].Addr, err)
	}
	before := adminCalls(t, servers[0]) // the call just made

	var (
		next     atomic.Int64 // the next call's number
		finished atomic.Int64
		killNow  = make(chan struct{})
		killOnce sync.Once
		mu       sync.Mutex
		failed   = make(map[codes.Code]int)
		wrong    []string
		wg       sync.WaitGroup
	)
	for range lbConcurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < lbCalls; i = next.Add(1) - 1 {
				ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
				var err error
				var bad string
				if i%2 == 0 {
					var f *pb.Feature
					f, err = c.GetFeature(ctx, harbour)
					if err == nil && f.GetName() != "Harbour Lighthouse" {
						bad = "GetFeature: " + f.String()
					}
				} else {
					var sum *pb.RouteSummary
					sum, err = recordRoute(ctx, c, route)
					if err == nil && (sum.GetPointCount() != want.GetPointCount() || sum.GetDistance() != want.GetDistance() || sum.GetFeatureCount() != want.GetFeatureCount()) {
						bad = "RecordRoute: " + sum.String()
					}
				}
				cancel()
				mu.Lock()
				if err != nil {
					failed[status.Code(err)]++
				}
				if bad != "" {
					wrong = append(wrong, bad)
				}
				mu.Unlock()
				if finished.Add(1) == lbKillAfter {
					killOnce.Do(func() { close(killNow) })
				}
			}
		}()
	}

	<-killNow // lbKillAfter < lbCalls, so some worker closes it
	var seenBefore [3]uint64
	for i, s := range servers {
		seenBefore[i] = adminCalls(t, s)
	}
	err = servers[1].Stop(t, syscall.SIGKILL)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("routeguide-server (pid %d) after SIGKILL = %v, want killed by SIGKILL", servers[1].Pid(), err)
	}
	killedAt := finished.Load()
	wg.Wait()

	after := [3]uint64{adminCalls(t, servers[0]), 0, adminCalls(t, servers[2])}
	nFailed := 0
	for _, n := range failed {
		nFailed += n
	}
	t.Logf("%d calls, %d failed (%v), %d wrong; %d attempts; server 2 killed after %d calls finished, having seen %d; servers 1 and 3 saw %d and %d before, %d and %d after",
		lbCalls, nFailed, failed, len(wrong), attempts.Load(), killedAt, seenBefore[1],
		seenBefore[0]-before, seenBefore[2], after[0]-seenBefore[0], after[2]-seenBefore[2])

	// 1000·failed <= lbCalls is success >= 99.9%, without float error.
	if 1000*nFailed > lbCalls {
		t.Errorf("%d of %d calls failed (codes %v), want at most 0.1%%", nFailed, lbCalls, failed)
	}
	if len(wrong) > 0 {
		t.Errorf("%d calls answered wrongly, want none; first: %s", len(wrong), wrong[0])
	}
	if killedAt >= lbCalls {
		t.Errorf("server 2 killed after all %d calls finished, want it killed mid-run", lbCalls)
	}
	if seenBefore[1] == 0 {
		t.Errorf("server 2 saw no call before it was killed, want round robin to have used it")
	}
	// The rest of the run went to servers 1 and 3, about half each: at
	// least a quarter each of the calls that started after the kill.
	atLeast := (lbCalls - killedAt - lbConcurrency) / 4
	for _, i := range []int{0, 2} {
		if got := int64(after[i] - seenBefore[i]); got < atLeast {
			t.Errorf("server %d saw %d calls after the kill, want %d or more", i+1, got, atLeast)
		}
	}
}

// recordRoute sends route as one RecordRoute call and returns the summary.
func recordRoute(ctx context.Context, c pb.RouteGuideClient, route []*pb.Point) (*pb.RouteSummary, error) {
	stream, err := c.RecordRoute(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range route {
		if err := stream.Send(p); err != nil {
			// The stream failed; CloseAndRecv returns its status.
			break
		}
	}
	return stream.CloseAndRecv()
}
