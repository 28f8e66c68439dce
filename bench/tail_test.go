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
// number of sequential GetFeature calls against it.
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

// BenchmarkTailLatency makes tailCalls calls with each client and reports
// each one's p50 and p99 latency in ms, and p99 of plain over p99 of hedge.
// Run it once per measurement:
//
//	go test -run '^$' -bench TailLatency -benchtime 1x
func BenchmarkTailLatency(b *testing.B) {
	rules, err := faultinject.ParseSpec(tailSpec)
	if err != nil {
		b.Fatal(err)
	}
	for range b.N {
		p99 := map[string]float64{}
		for _, tc := range tailClients {
			// A fresh server and seed per client: each sees the same
			// faults for the same sequence of attempts.
			in, err := faultinject.New(rules, faultinject.WithSeed(1))
			if err != nil {
				b.Fatal(err)
			}
			addr := startServer(b, grpc.ChainUnaryInterceptor(in.UnaryServerInterceptor()))
			conn, err := grpc.NewClient(addr, append(tc.opts, grpc.WithTransportCredentials(insecure.NewCredentials()))...)
			if err != nil {
				b.Fatal(err)
			}
			c := pb.NewRouteGuideClient(conn)
			lat := make([]time.Duration, 0, tailCalls)
			for i := range tailCalls {
				start := time.Now()
				if _, err := c.GetFeature(b.Context(), reqPoint); err != nil {
					b.Fatalf("%s: call %d = %v", tc.name, i+1, err)
				}
				lat = append(lat, time.Since(start))
			}
			conn.Close()
			p50, p99ms := quantileMs(lat, 0.50), quantileMs(lat, 0.99)
			p99[tc.name] = p99ms
			b.ReportMetric(p50, tc.name+"-p50-ms")
			b.ReportMetric(p99ms, tc.name+"-p99-ms")
			b.Logf("%-5s p50 %6.2f ms  p99 %6.2f ms  (%d calls, %d delayed by the server)", tc.name, p50, p99ms, tailCalls, in.Stats().Delays)
		}
		b.ReportMetric(p99["plain"]/p99["hedge"], "p99-plain/hedge")
		b.Logf("p99 plain / p99 hedge = %.1f", p99["plain"]/p99["hedge"])
	}
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
