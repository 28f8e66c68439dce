package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/examples/routeguide/server"
	"github.com/resilience-go/grpc-resilience/faultinject"
)

// The scenario server: the route guide example's server behind
// faultinject's interceptors, with a tracker outside them that sees every
// attempt of every call, faulted or not.

// callIDKey is the request header that numbers a scenario's calls. Every
// client sends a call's headers with each of its attempts, so the server
// can tell attempts of one call apart from new calls.
const callIDKey = "x-bench-call"

// previousAttemptsKey is the header in which gRFC A6 clients number their
// retries. Not every peer sends it (go-grpc-middleware and failsafe-go do
// not), so the tracker sets it from its own count before faultinject reads
// it: a "first=N" fault then fails the first N attempts of every call,
// whichever client makes them.
const previousAttemptsKey = "grpc-previous-rpc-attempts"

// echoRouteChat is the example server with RouteChat answering, once the
// client half-closes, with every note it received, in order. The example's
// RouteChat answers each note at once with the notes stored earlier at its
// location, a state that the attempts of a retried call would share; the
// echo keeps a call's replies a function of its own messages, so that a
// duplicated or lost message shows in the replies. Answering after the
// half-close lets a fault cut a call off after some notes and before any
// answer, uncommitted (the replay scenario).
type echoRouteChat struct {
	*server.Server
}

func (echoRouteChat) RouteChat(s grpc.BidiStreamingServer[pb.RouteNote, pb.RouteNote]) error {
	var notes []*pb.RouteNote
	for {
		note, err := s.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		notes = append(notes, note)
	}
	for _, n := range notes {
		if err := s.Send(n); err != nil {
			return err
		}
	}
	return nil
}

// attempt is what the tracker saw of one attempt.
type attempt struct {
	start, end time.Time
	// recv is the number of request messages the handler received.
	recv int
}

// tracker records the attempts of every call by its callIDKey header.
type tracker struct {
	mu sync.Mutex
	// received is broadcast, with mu held, whenever a handler receives a
	// message.
	received *sync.Cond
	calls    map[string][]*attempt
	// untagged counts attempts without a callIDKey header.
	untagged int
}

func newTracker() *tracker {
	t := &tracker{calls: make(map[string][]*attempt)}
	t.received = sync.NewCond(&t.mu)
	return t
}

// waitReceived waits until the attempts of call id together received n
// request messages, or ctx ends.
func (t *tracker) waitReceived(ctx context.Context, id string, n int) error {
	stop := context.AfterFunc(ctx, func() {
		t.mu.Lock()
		t.received.Broadcast()
		t.mu.Unlock()
	})
	defer stop()
	t.mu.Lock()
	defer t.mu.Unlock()
	for {
		got := 0
		for _, a := range t.calls[id] {
			got += a.recv
		}
		if got >= n {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("call %s: the server received %d of %d messages: %w", id, got, n, err)
		}
		t.received.Wait()
	}
}

// begin records the start of an attempt of the call in ctx's headers and
// returns it with a context whose previousAttemptsKey counts the call's
// earlier attempts.
func (t *tracker) begin(ctx context.Context) (context.Context, *attempt) {
	a := &attempt{start: time.Now()}
	md, _ := metadata.FromIncomingContext(ctx)
	ids := md.Get(callIDKey)
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(ids) == 0 {
		t.untagged++
		return ctx, a
	}
	prev := len(t.calls[ids[0]])
	t.calls[ids[0]] = append(t.calls[ids[0]], a)
	md = md.Copy()
	md.Set(previousAttemptsKey, strconv.Itoa(prev))
	return metadata.NewIncomingContext(ctx, md), a
}

// end records the end of a.
func (t *tracker) end(a *attempt) {
	t.mu.Lock()
	a.end = time.Now()
	t.mu.Unlock()
}

func (t *tracker) unary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	ctx, a := t.begin(ctx)
	defer t.end(a)
	t.mu.Lock()
	a.recv = 1
	t.mu.Unlock()
	return h(ctx, req)
}

func (t *tracker) stream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	ctx, a := t.begin(ss.Context())
	defer t.end(a)
	return h(srv, &trackedStream{ServerStream: ss, ctx: ctx, t: t, a: a})
}

// trackedStream counts the messages the handler receives.
type trackedStream struct {
	grpc.ServerStream
	ctx context.Context
	t   *tracker
	a   *attempt
}

func (s *trackedStream) Context() context.Context { return s.ctx }

func (s *trackedStream) RecvMsg(m any) error {
	err := s.ServerStream.RecvMsg(m)
	if err == nil {
		s.t.mu.Lock()
		s.a.recv++
		s.t.received.Broadcast()
		s.t.mu.Unlock()
	}
	return err
}

// callLog is the attempts the tracker saw of one call.
type callLog struct {
	attempts []attempt
}

// snapshot returns the tracker's record: every call's attempts by ID, and
// the number of untagged attempts.
func (t *tracker) snapshot() (map[string]callLog, int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]callLog, len(t.calls))
	for id, as := range t.calls {
		cl := callLog{attempts: make([]attempt, len(as))}
		for i, a := range as {
			cl.attempts[i] = *a
		}
		out[id] = cl
	}
	return out, t.untagged
}

// scenarioServer is a running scenario server.
type scenarioServer struct {
	addr     string
	tracker  *tracker
	features []*pb.Feature
}

// startScenarioServer serves the route guide on a fresh 127.0.0.1 port,
// faulted by spec with seed 1. It stops at cleanup; a handler still
// running then (an attempt the client abandoned) is cancelled.
func startScenarioServer(tb testing.TB, spec string) *scenarioServer {
	tb.Helper()
	rules, err := faultinject.ParseSpec(spec)
	if err != nil {
		tb.Fatalf("faultinject.ParseSpec(%q) = %v", spec, err)
	}
	in, err := faultinject.New(rules, faultinject.WithSeed(1))
	if err != nil {
		tb.Fatalf("faultinject.New(%q) = %v", spec, err)
	}
	tr := newTracker()
	rg := server.New()
	addr := serve(tb, echoRouteChat{rg},
		grpc.ChainUnaryInterceptor(tr.unary, in.UnaryServerInterceptor()),
		grpc.ChainStreamInterceptor(tr.stream, in.StreamServerInterceptor()),
	)
	return &scenarioServer{addr: addr, tracker: tr, features: rg.Features()}
}
