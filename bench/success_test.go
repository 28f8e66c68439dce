package bench

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
)

// warmupCalls are made before the timer starts: the first connects the
// channel, the rest fill the interceptors' per-method caches and grpc's
// buffer pools, so that b.N measures the steady state.
const warmupCalls = 10

// The benchmarks: one per kind of call, one sub-benchmark per flavour, named
// Benchmark<Kind>/client=<flavour> so that `benchstat -col /client` puts
// the flavours side by side with plain as the baseline.

func BenchmarkUnary(b *testing.B)        { benchKind(b, unary) }
func BenchmarkServerStream(b *testing.B) { benchKind(b, serverStream) }
func BenchmarkClientStream(b *testing.B) { benchKind(b, clientStream) }
func BenchmarkBidi(b *testing.B)         { benchKind(b, bidi) }

func benchKind(b *testing.B, k kind) {
	for _, f := range flavours {
		b.Run("client="+f.name, func(b *testing.B) {
			c := dial(b, f)
			if f.refusesClientStreams && k.clientStreams {
				checkRefused(b, c, f, k)
				b.Skipf("%s cannot retry client-streaming or bidi calls: its stream interceptor fails them with UNIMPLEMENTED", f.name)
			}
			measure(b, k, c, f.name)
		})
	}
}

// measure times b.N calls of k on c after warmupCalls untimed ones; who
// names the client or server flavour in failures.
func measure(b *testing.B, k kind, c pb.RouteGuideClient, who string) {
	ctx := b.Context()
	for range warmupCalls {
		if err := k.call(ctx, c); err != nil {
			b.Fatalf("warm-up %s call with %s = %v", k.name, who, err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := k.call(ctx, c); err != nil {
			b.Fatalf("%s call with %s = %v", k.name, who, err)
		}
	}
}

// checkRefused makes one call of k, which f is known to refuse, and fails
// unless it was refused with UNIMPLEMENTED: a peer that learned to make
// such calls must be benchmarked, not skipped.
func checkRefused(tb testing.TB, c pb.RouteGuideClient, f flavour, k kind) {
	tb.Helper()
	err := k.call(tb.Context(), c)
	if got := status.Code(err); got != codes.Unimplemented {
		tb.Fatalf("%s call with %s = %v (code %v), want code %v: update refusesClientStreams", k.name, f.name, err, got, codes.Unimplemented)
	}
}

// TestCalls runs each benchmark's call a few times, so that `go test`
// proves every flavour and kind works (or is refused as documented) without
// running the benchmarks.
func TestCalls(t *testing.T) {
	for _, k := range kinds {
		for _, f := range flavours {
			t.Run(k.name+"/client="+f.name, func(t *testing.T) {
				c := dial(t, f)
				ctx := t.Context()
				if f.refusesClientStreams && k.clientStreams {
					checkRefused(t, c, f, k)
					return
				}
				for i := range 3 {
					if err := k.call(ctx, c); err != nil {
						t.Fatalf("%s call %d with %s = %v, want nil", k.name, i, f.name, err)
					}
				}
			})
		}
	}
}
