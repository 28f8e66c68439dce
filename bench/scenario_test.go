package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
)

// A scenario is one set of faults and one policy, run by every peer that
// can express the policy, for each kind of call it names.
type scenario struct {
	// spec is the faultinject spec of the server, seeded with 1.
	spec   string
	policy policy
	// calls are made per kind and peer, concurrency at a time, each with
	// a deadline of timeout.
	calls, concurrency int
	timeout            time.Duration
	// msgs is the number of request messages of a client-streaming or bidi
	// call. Default 3.
	msgs int
}

// scenarioResult is what one peer's calls of one kind showed, on the client
// side and on the server.
type scenarioResult struct {
	calls int
	// ok counts calls that succeeded with the right data.
	ok int
	// wrong counts calls whose caller saw wrong data: a message duplicated,
	// lost, out of order or foreign; dup the part of them that saw a
	// message twice. A wrong call is not ok, whatever its status.
	wrong, dup int
	// delivered counts calls whose caller received at least one response
	// message.
	delivered int
	// codes counts the calls' final status codes.
	codes map[string]int
	// latencies are the calls' durations, ends of streams included.
	latencies []time.Duration

	// serverAttempts is the number of attempts the server saw (untagged
	// ones included).
	serverAttempts int
	// replayed is the request messages received by the attempts after
	// each call's first.
	replayed int
	// waits are the gaps the server saw between the end of an attempt and
	// the start of the call's next: the client's backoff, or pushback, plus
	// the network.
	waits []time.Duration
}

// callOutcome is what one call showed its caller.
type callOutcome struct {
	err error
	// wrong says what was wrong with the data the caller saw; empty when
	// nothing was.
	wrong string
	// dup reports that the caller saw a message twice.
	dup bool
	// got is the number of response messages the caller received.
	got int
}

// scenarioCall makes call number id of kind k on c, sending msgs request
// messages on client streams, and checks what the caller sees against the
// route guide's features.
type scenarioCall func(ctx context.Context, c pb.RouteGuideClient, id, msgs int) callOutcome

// runScenario runs sc's calls of kind k with peer pr against a fresh
// scenario server, and returns what they showed. The peer must support k
// and sc's policy.
func runScenario(tb testing.TB, sc scenario, k kind, pr peer) scenarioResult {
	tb.Helper()
	srv := startScenarioServer(tb, sc.spec)
	c := dialPeer(tb, srv.addr, pr, sc.policy)
	call := scenarioCalls(srv.features)[k.name]
	msgs := sc.msgs
	if msgs == 0 {
		msgs = 3
	}
	res := scenarioResult{calls: sc.calls, codes: map[string]int{}, latencies: make([]time.Duration, sc.calls)}
	var (
		mu   sync.Mutex
		next atomic.Int64
		wg   sync.WaitGroup
	)
	ctx := tb.Context()
	for range max(sc.concurrency, 1) {
		wg.Go(func() {
			for {
				id := int(next.Add(1)) - 1
				if id >= sc.calls {
					return
				}
				cctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(ctx, callIDKey, strconv.Itoa(id)), sc.timeout)
				start := time.Now()
				out := call(cctx, c, id, msgs)
				d := time.Since(start)
				cancel()
				mu.Lock()
				res.latencies[id] = d
				res.codes[status.Code(out.err).String()]++
				switch {
				case out.wrong != "":
					res.wrong++
				case out.err == nil:
					res.ok++
				}
				if out.dup {
					res.dup++
				}
				if out.got > 0 {
					res.delivered++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	logs, untagged := srv.tracker.snapshot()
	res.serverAttempts = untagged
	for _, cl := range logs {
		res.serverAttempts += len(cl.attempts)
		for i, a := range cl.attempts {
			if i > 0 {
				res.replayed += a.recv
				if prev := cl.attempts[i-1]; !prev.end.IsZero() {
					res.waits = append(res.waits, a.start.Sub(prev.end))
				}
			}
		}
	}
	return res
}

// scenarioCalls returns the calls of each kind, checked against features.
func scenarioCalls(features []*pb.Feature) map[string]scenarioCall {
	named := slices.DeleteFunc(slices.Clone(features), func(f *pb.Feature) bool { return f.GetName() == "" })
	rect, inRect := listRect(features)
	return map[string]scenarioCall{
		unary.name: func(ctx context.Context, c pb.RouteGuideClient, id, _ int) callOutcome {
			want := named[id%len(named)]
			f, err := c.GetFeature(ctx, want.GetLocation())
			if err != nil {
				return callOutcome{err: err}
			}
			if f.GetName() != want.GetName() {
				return callOutcome{got: 1, wrong: fmt.Sprintf("GetFeature = %q, want %q", f.GetName(), want.GetName())}
			}
			return callOutcome{got: 1}
		},
		serverStream.name: func(ctx context.Context, c pb.RouteGuideClient, _, _ int) callOutcome {
			s, err := c.ListFeatures(ctx, rect)
			if err != nil {
				return callOutcome{err: err}
			}
			var got []*pb.Feature
			for {
				f, err := s.Recv()
				if errors.Is(err, io.EOF) {
					return checkSeq(got, inRect, featureKey, nil)
				}
				if err != nil {
					return checkSeq(got, inRect, featureKey, err)
				}
				if got = append(got, f); wrongLast(got, inRect, featureKey) {
					return checkSeq(got, inRect, featureKey, errStopped)
				}
			}
		},
		clientStream.name: func(ctx context.Context, c pb.RouteGuideClient, id, msgs int) callOutcome {
			s, err := c.RecordRoute(ctx)
			if err != nil {
				return callOutcome{err: err}
			}
			wantFeatures := int32(0)
			for i := range msgs {
				f := features[(id+i)%len(features)]
				if f.GetName() != "" {
					wantFeatures++
				}
				if err := s.Send(f.GetLocation()); err != nil {
					break // the status comes from CloseAndRecv
				}
			}
			sum, err := s.CloseAndRecv()
			if err != nil {
				return callOutcome{err: err}
			}
			if sum.GetPointCount() != int32(msgs) || sum.GetFeatureCount() != wantFeatures {
				return callOutcome{got: 1, dup: sum.GetPointCount() > int32(msgs),
					wrong: fmt.Sprintf("RecordRoute counted %d points and %d features, want %d and %d", sum.GetPointCount(), sum.GetFeatureCount(), msgs, wantFeatures)}
			}
			return callOutcome{got: 1}
		},
		bidi.name: func(ctx context.Context, c pb.RouteGuideClient, id, msgs int) callOutcome {
			s, err := c.RouteChat(ctx)
			if err != nil {
				return callOutcome{err: err}
			}
			sent := make([]*pb.RouteNote, msgs)
			for i := range msgs {
				sent[i] = &pb.RouteNote{Location: features[i%len(features)].GetLocation(), Message: fmt.Sprintf("%d/%d", id, i)}
				if err := s.Send(sent[i]); err != nil {
					break // the status comes from Recv
				}
			}
			if err := s.CloseSend(); err != nil {
				return callOutcome{err: err}
			}
			var got []*pb.RouteNote
			for {
				n, err := s.Recv()
				if errors.Is(err, io.EOF) {
					return checkSeq(got, sent, (*pb.RouteNote).GetMessage, nil)
				}
				if err != nil {
					return checkSeq(got, sent, (*pb.RouteNote).GetMessage, err)
				}
				if got = append(got, n); wrongLast(got, sent, (*pb.RouteNote).GetMessage) {
					return checkSeq(got, sent, (*pb.RouteNote).GetMessage, errStopped)
				}
			}
		},
	}
}

// errStopped ends a call whose caller stopped reading at the first wrong
// message: a client that repeats a stream from its start could otherwise
// feed it duplicates until the deadline.
var errStopped = errors.New("stopped reading at the first wrong message")

// wrongLast reports whether the last message of got is not the one want
// has at its place.
func wrongLast[T any](got, want []T, key func(T) string) bool {
	i := len(got) - 1
	return i >= len(want) || key(got[i]) != key(want[i])
}

// checkSeq checks the response messages got of a stream that ended with
// err (nil for a clean end) against want, comparing messages by key. A
// message duplicated, lost, reordered or foreign is wrong data, and so is a
// clean end before the last message; a failed call may have delivered a
// prefix of want.
func checkSeq[T any](got, want []T, key func(T) string, err error) callOutcome {
	out := callOutcome{err: err, got: len(got)}
	seen := make(map[string]bool, len(got))
	for i, g := range got {
		k := key(g)
		if seen[k] {
			out.dup = true
		}
		seen[k] = true
		if out.wrong == "" && (i >= len(want) || key(want[i]) != k) {
			out.wrong = fmt.Sprintf("message %d is %q, not the one expected", i, k)
		}
	}
	if out.wrong == "" && err == nil && len(got) != len(want) {
		out.wrong = fmt.Sprintf("the stream ended cleanly after %d of %d messages", len(got), len(want))
	}
	return out
}

// featureKey names a feature by its location, unique in the database.
func featureKey(f *pb.Feature) string {
	return fmt.Sprintf("%d,%d", f.GetLocation().GetLatitude(), f.GetLocation().GetLongitude())
}

// listRect returns the rectangle ListFeatures is asked for, the bounding
// box of the first five features, and the features inside it in database
// order, which the server sends.
func listRect(features []*pb.Feature) (*pb.Rectangle, []*pb.Feature) {
	lo := &pb.Point{Latitude: math.MaxInt32, Longitude: math.MaxInt32}
	hi := &pb.Point{Latitude: math.MinInt32, Longitude: math.MinInt32}
	for _, f := range features[:min(5, len(features))] {
		p := f.GetLocation()
		lo.Latitude, lo.Longitude = min(lo.Latitude, p.Latitude), min(lo.Longitude, p.Longitude)
		hi.Latitude, hi.Longitude = max(hi.Latitude, p.Latitude), max(hi.Longitude, p.Longitude)
	}
	var in []*pb.Feature
	for _, f := range features {
		p := f.GetLocation()
		if p.Latitude >= lo.Latitude && p.Latitude <= hi.Latitude && p.Longitude >= lo.Longitude && p.Longitude <= hi.Longitude {
			in = append(in, f)
		}
	}
	return &pb.Rectangle{Lo: lo, Hi: hi}, in
}
