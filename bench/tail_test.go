package bench

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/faultinject"
	"github.com/resilience-go/grpc-resilience/interceptors"
)

// The tail-latency benchmark: a server that delays 5% of calls by 50 ms
// (each attempt drawn on its own, seeded), and three clients making the same
// number of sequential calls of one kind against it.
const (
	tailSpec      = "delay=50ms@5%"
	tailCalls     = 1000
	tailHedgeWait = 5 * time.Millisecond
)

// tailClient is one client of the tail benchmark.
type tailClient struct {
	name string
	opts []grpc.DialOption
}

var tailClients = []tailClient{
	{"plain", []grpc.DialOption{grpc.WithDisableRetry()}},
	{"retry", interceptors.DialOptions(interceptors.WithRetryTimes(2))},
	{"hedge", interceptors.DialOptions(interceptors.WithHedging(3, tailHedgeWait, codes.Unavailable))},
}

// BenchmarkTailLatency makes tailCalls calls of each kind with each client
// and reports each one's p50 and p99 latency in ms (a streaming call's
// latency runs to the end of its stream), and p99 of plain over p99 of
// hedge. Run it once per measurement:
//
//	go test -run '^$' -bench TailLatency -benchtime 1x
func BenchmarkTailLatency(b *testing.B) {
	rules, err := faultinject.ParseSpec(tailSpec)
	if err != nil {
		b.Fatal(err)
	}
	for _, k := range kinds {
		b.Run("kind="+k.name, func(b *testing.B) {
			for range b.N {
				p99 := map[string]float64{}
				for _, tc := range tailClients {
					p50ms, p99ms, delays := tailRun(b, rules, tc, k)
					p99[tc.name] = p99ms
					b.ReportMetric(p50ms, tc.name+"-p50-ms")
					b.ReportMetric(p99ms, tc.name+"-p99-ms")
					b.Logf("%-5s p50 %6.2f ms  p99 %6.2f ms  (%d calls, %d delayed by the server)", tc.name, p50ms, p99ms, tailCalls, delays)
				}
				b.ReportMetric(p99["plain"]/p99["hedge"], "p99-plain/hedge")
				b.Logf("%s: p99 plain / p99 hedge = %.1f", k.name, p99["plain"]/p99["hedge"])
			}
		})
	}
}

// tailRun makes tailCalls calls of kind k with client tc against a fresh
// server with a fresh seed, so that every client sees the same faults for
// the same sequence of attempts. It returns p50 and p99 in ms and the
// number of attempts the server delayed.
func tailRun(b *testing.B, rules []faultinject.Rule, tc tailClient, k kind) (p50, p99 float64, delays uint64) {
	in, err := faultinject.New(rules, faultinject.WithSeed(1))
	if err != nil {
		b.Fatal(err)
	}
	addr := startServer(b, grpc.ChainUnaryInterceptor(in.UnaryServerInterceptor()), grpc.ChainStreamInterceptor(in.StreamServerInterceptor()))
	conn, err := grpc.NewClient(addr, append(tc.opts, grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	c := pb.NewRouteGuideClient(conn)
	lat := make([]time.Duration, 0, tailCalls)
	for i := range tailCalls {
		start := time.Now()
		if err := k.call(b.Context(), c); err != nil {
			b.Fatalf("%s: call %d = %v", tc.name, i+1, err)
		}
		lat = append(lat, time.Since(start))
	}
	return quantileMs(lat, 0.50), quantileMs(lat, 0.99), in.Stats().Delays
}

// quantileMs returns the q-quantile of lat in milliseconds (nearest rank).
func quantileMs(lat []time.Duration, q float64) float64 {
	s := slices.Clone(lat)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	i = min(max(i, 0), len(s)-1)
	return float64(s[i]) / float64(time.Millisecond)
}

// TestQuantileMs checks the nearest-rank quantile the tail benchmark uses.
func TestQuantileMs(t *testing.T) {
	lat := make([]time.Duration, 100)
	for i := range lat {
		lat[i] = time.Duration(100-i) * time.Millisecond // 100 ms down to 1 ms
	}
	for _, c := range []struct{ q, want float64 }{{0.5, 50}, {0.99, 99}, {1, 100}, {0, 1}} {
		if got := quantileMs(lat, c.q); got != c.want {
			t.Errorf("quantileMs(1..100 ms, %v) = %v, want %v", c.q, got, c.want)
		}
	}
	if got := fmt.Sprint(quantileMs([]time.Duration{time.Millisecond}, 0.99)); got != "1" {
		t.Errorf("quantileMs([1ms], 0.99) = %s, want 1", got)
	}
}
