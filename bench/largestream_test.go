package bench

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"google.golang.org/grpc/metadata"
)

// The large-stream scenario: one client-streaming call of 10,000 points
// with retries on and no fault, and the live heap sampled (after a full
// GC) every 500 points, once the server has received every point sent so
// far: the transport's queues are then empty, and the heap over its size
// before the call is what the client keeps. A client keeps what it sent for replay until the
// call commits, so its peak heap grows with the stream up to its replay
// limit, then drops; the limit must bound it.
const (
	largeStreamPoints = 10000
	largeStreamSample = 500
	largeStreamID     = "large"
	// largeStreamSlack is the constant a client's peak heap may exceed
	// plain grpc-go's by, beyond its replay limit. Plain grpc-go keeps the
	// stream's first 256 KiB of encoded messages itself, for transparent
	// retries: these points take 17 bytes each on average (170,000 bytes
	// in all, under both clients' default limit of 256 KiB), about 2 MiB
	// of heap in grpc-go's buffer. Its peak moves by up to about 100 KiB
	// from run to run.
	largeStreamSlack = 128 << 10
)

// largeStreamVariants are every peer that can make client-streaming
// calls, with its default replay limit, then with a 64 KiB one.
func largeStreamVariants() []variant {
	vs := plainVariants()
	for _, pr := range peers[1:] {
		vs = append(vs, variant{peer: pr, suffix: "+64KiB", change: func(p policy) policy { p.replayLimit = 64 << 10; return p }})
	}
	return vs
}

// BenchmarkLargeStream reports the peak growth of the live heap during the
// call over the heap before it, in KiB, with the replay limit.
func BenchmarkLargeStream(b *testing.B) {
	for _, v := range largeStreamVariants() {
		b.Run("kind=ClientStream/client="+v.peer.name+v.suffix, func(b *testing.B) {
			p := v.policy(defaultPolicy)
			v.skipUnsupported(b, clientStream, p)
			var peak uint64
			for range b.N {
				var err error
				if peak, err = largeStream(b, v.peer, p); err != nil {
					b.Fatal(err)
				}
			}
			limit := p.replayLimit
			if limit == 0 {
				limit = 256 << 10
			}
			if v.peer.name == "plain" {
				limit = 0
			}
			b.ReportMetric(float64(peak)/1024, "peak-heap-KiB")
			b.ReportMetric(float64(limit)/1024, "replay-limit-KiB")
			b.ReportMetric(largeStreamPoints, "msgs")
		})
	}
}

// largeStream makes one RecordRoute call of largeStreamPoints points with
// pr and p against a fresh server without faults, and returns the peak
// growth of the live heap over its size before the call.
func largeStream(tb testing.TB, pr peer, p policy) (uint64, error) {
	srv := startScenarioServer(tb, "")
	c := dialPeer(tb, srv.addr, pr, p)
	features := srv.features
	ctx, cancel := context.WithCancel(tb.Context())
	defer cancel()
	// Connect first, so that the connection's buffers are in the baseline.
	if _, err := c.GetFeature(ctx, features[0].GetLocation()); err != nil {
		return 0, fmt.Errorf("warm-up GetFeature = %w", err)
	}
	live := func() uint64 {
		var ms runtime.MemStats
		// Twice: the first GC moves sync.Pool contents (grpc's buffer
		// pools) to the pools' victim caches, the second frees them.
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	base := live()
	var peak uint64
	sample := func(sent int) error {
		if err := srv.tracker.waitReceived(ctx, largeStreamID, sent); err != nil {
			return err
		}
		if h := live(); h > base && h-base > peak {
			peak = h - base
		}
		return nil
	}
	s, err := c.RecordRoute(metadata.AppendToOutgoingContext(ctx, callIDKey, largeStreamID))
	if err != nil {
		return 0, err
	}
	for i := range largeStreamPoints {
		if err := s.Send(features[i%len(features)].GetLocation()); err != nil {
			break // the status comes from CloseAndRecv
		}
		if (i+1)%largeStreamSample == 0 {
			if err := sample(i + 1); err != nil {
				return 0, err
			}
		}
	}
	sum, err := s.CloseAndRecv()
	if err != nil {
		return 0, fmt.Errorf("%s: RecordRoute of %d points = %w", pr.name, largeStreamPoints, err)
	}
	if sum.GetPointCount() != largeStreamPoints {
		return 0, fmt.Errorf("%s: RecordRoute counted %d points, want %d", pr.name, sum.GetPointCount(), largeStreamPoints)
	}
	return peak, nil
}
