package bench

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
)

// warmupCalls are made before the timer starts: the first connects the
// channel, the rest fill the interceptors' per-method caches and grpc's
// buffer pools, so that b.N measures the steady state.
const warmupCalls = 10

// callerCounts are the numbers of concurrent callers of the success path.
var callerCounts = []int{1, 8}

// The success-path benchmarks: one per kind of call, one sub-benchmark per
// number of callers and peer, named
// Benchmark<Kind>/callers=<n>/client=<peer> so that `benchstat -col
// /client` puts the peers side by side with plain as the baseline.

func BenchmarkUnary(b *testing.B)        { benchKind(b, unary) }
func BenchmarkServerStream(b *testing.B) { benchKind(b, serverStream) }
func BenchmarkClientStream(b *testing.B) { benchKind(b, clientStream) }
func BenchmarkBidi(b *testing.B)         { benchKind(b, bidi) }

func benchKind(b *testing.B, k kind) {
	for _, n := range callerCounts {
		for _, pr := range peers {
			b.Run(fmt.Sprintf("callers=%d/client=%s", n, pr.name), func(b *testing.B) {
				if ok, why := pr.supports(k); !ok {
					if pr.refusesClientStreams && k.clientStreams {
						checkRefused(b, dial(b, pr), pr, k)
					}
					b.Skipf("%s: %s", pr.name, why)
				}
				measure(b, k, dial(b, pr), pr.name, n)
			})
		}
	}
}

// measure times b.N calls of k on c, made by callers goroutines at once,
// after warmupCalls untimed ones; who names the client or server flavour in
// failures.
func measure(b *testing.B, k kind, c pb.RouteGuideClient, who string, callers int) {
	ctx := b.Context()
	for range warmupCalls {
		if err := k.call(ctx, c); err != nil {
			b.Fatalf("warm-up %s call with %s = %v", k.name, who, err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	if callers == 1 {
		for range b.N {
			if err := k.call(ctx, c); err != nil {
				b.Fatalf("%s call with %s = %v", k.name, who, err)
			}
		}
		return
	}
	// callers goroutines share b.N calls; the first error stops them all.
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		firstErr error
		once     sync.Once
	)
	for range callers {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if err := k.call(ctx, c); err != nil {
					once.Do(func() { firstErr = err })
					next.Store(int64(b.N))
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		b.Fatalf("%s call with %s, %d callers = %v", k.name, who, callers, firstErr)
	}
}

// checkRefused makes one call of k, which pr is known to refuse, and fails
// unless it was refused with UNIMPLEMENTED: a peer that learned to make
// such calls must be benchmarked, not skipped.
func checkRefused(tb testing.TB, c pb.RouteGuideClient, pr peer, k kind) {
	tb.Helper()
	err := k.call(tb.Context(), c)
	if got := status.Code(err); got != codes.Unimplemented {
		tb.Fatalf("%s call with %s = %v (code %v), want code %v: update refusesClientStreams", k.name, pr.name, err, got, codes.Unimplemented)
	}
}

// TestCalls runs each benchmark's call a few times, so that `go test`
// proves every peer and kind works (or is refused as documented) without
// running the benchmarks.
func TestCalls(t *testing.T) {
	for _, k := range kinds {
		for _, pr := range peers {
			t.Run(k.name+"/client="+pr.name, func(t *testing.T) {
				if ok, _ := pr.supports(k); !ok {
					if pr.refusesClientStreams && k.clientStreams {
						checkRefused(t, dial(t, pr), pr, k)
					}
					return
				}
				c := dial(t, pr)
				ctx := t.Context()
				for i := range 3 {
					if err := k.call(ctx, c); err != nil {
						t.Fatalf("%s call %d with %s = %v, want nil", k.name, i, pr.name, err)
					}
				}
			})
		}
	}
}
