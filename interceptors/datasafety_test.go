package interceptors_test

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	calcpb "github.com/resilience-go/grpc-resilience/examples/calculator/calculatorpb"
	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/interceptors"
	"github.com/resilience-go/grpc-resilience/internal/stubserver"
	"github.com/resilience-go/grpc-resilience/retry"
)

// The data-safety test: methods with side effects that are not idempotent
// (Calculator.Accumulate, RecordRoute, RouteChat: none declares an
// idempotency level), a server that counts every side effect per call, and
// faults that leave the client unsure whether the server acted.

// fault is what the server does with one attempt.
type fault int

const (
	faultNone           fault = iota // act, answer OK
	faultRefuseBefore                // answer UNAVAILABLE before acting: safe to retry
	faultAmbiguousAfter              // act, then answer an Ambiguous code
	faultDropAfter                   // act, then drop every connection: no answer
	faultHangAfter                   // act, then hang until the attempt's timeout
	numFaults
)

var faultNames = [numFaults]string{"none", "refuse-before", "ambiguous-after", "drop-after", "hang-after"}

// ambiguousCodes are the codes of the Ambiguous class a server can answer.
var ambiguousCodes = []codes.Code{codes.Internal, codes.Unknown, codes.Aborted, codes.ResourceExhausted}

// safetyServer applies side effects and injects faults. The fault of an
// attempt is a pure function of the seed, the call id and the attempt
// number, so a run repeats whatever the goroutines' order.
type safetyServer struct {
	calcpb.UnimplementedCalculatorServer
	seed uint64

	mu      sync.Mutex
	effects map[string]int // call id -> side effects applied
	faults  [numFaults]int // attempts that got each fault
	conns   []net.Conn     // the server's open connections
}

const callIDKey = "x-call-id"

// accept wraps the server's listener to keep its connections, for drops.
type trackingListener struct {
	net.Listener
	s *safetyServer
}

func (l trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.s.mu.Lock()
		l.s.conns = append(l.s.conns, c)
		l.s.mu.Unlock()
	}
	return c, err
}

// attempt reads the call id and attempt number of ctx and picks the
// attempt's fault: 60% none, 10% each of the others.
func (s *safetyServer) attempt(ctx context.Context) (id string, f fault, err error) {
	md, _ := metadata.FromIncomingContext(ctx)
	ids := md.Get(callIDKey)
	if len(ids) != 1 {
		return "", 0, status.Errorf(codes.InvalidArgument, "want one %s, got %q", callIDKey, ids)
	}
	n := 0
	if prev := md.Get("grpc-previous-rpc-attempts"); len(prev) == 1 {
		n, _ = strconv.Atoi(prev[0])
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%d", ids[0], n)
	r := rand.New(rand.NewPCG(s.seed, h.Sum64()))
	if p := r.IntN(100); p >= 60 {
		f = fault(1 + (p-60)/10)
	}
	s.mu.Lock()
	s.faults[f]++
	s.mu.Unlock()
	return ids[0], f, nil
}

// act applies the call's side effect, then the fault; a nil error means
// answer OK.
func (s *safetyServer) act(ctx context.Context, id string, f fault) error {
	if f == faultRefuseBefore {
		return status.Error(codes.Unavailable, "refused before acting")
	}
	s.mu.Lock()
	s.effects[id]++
	s.mu.Unlock()
	switch f {
	case faultAmbiguousAfter:
		h := fnv.New32a()
		h.Write([]byte(id))
		return status.Errorf(ambiguousCodes[int(h.Sum32())%len(ambiguousCodes)], "failed after acting on %s", id)
	case faultDropAfter:
		s.mu.Lock()
		for _, c := range s.conns {
			c.Close()
		}
		s.conns = nil
		s.mu.Unlock()
		<-ctx.Done() // the connection's end cancels it
		return status.FromContextError(ctx.Err()).Err()
	case faultHangAfter:
		<-ctx.Done() // the client's per-attempt timeout ends it
		return status.FromContextError(ctx.Err()).Err()
	}
	return nil
}

func (s *safetyServer) Accumulate(ctx context.Context, req *calcpb.AccumulateRequest) (*calcpb.CalcReply, error) {
	id, f, err := s.attempt(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.act(ctx, id, f); err != nil {
		return nil, err
	}
	return &calcpb.CalcReply{Result: req.GetValue()}, nil
}

func (s *safetyServer) handlers() stubserver.Handlers {
	return stubserver.Handlers{
		RecordRoute: func(stream grpc.ClientStreamingServer[pb.Point, pb.RouteSummary]) error {
			id, f, err := s.attempt(stream.Context())
			if err != nil {
				return err
			}
			points, err := recvAll(stream.Recv)
			if err != nil {
				return err
			}
			if err := s.act(stream.Context(), id, f); err != nil {
				return err
			}
			return stream.SendAndClose(&pb.RouteSummary{PointCount: int32(len(points))})
		},
		RouteChat: func(stream grpc.BidiStreamingServer[pb.RouteNote, pb.RouteNote]) error {
			id, f, err := s.attempt(stream.Context())
			if err != nil {
				return err
			}
			notes, err := recvAll(stream.Recv)
			if err != nil {
				return err
			}
			if err := s.act(stream.Context(), id, f); err != nil {
				return err
			}
			for _, n := range notes {
				if err := stream.Send(n); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// safetyCall makes call i of one method with ctx carrying its id, and
// checks the answer's data.
type safetyCall func(ctx context.Context, conn *grpc.ClientConn, i int) error

var safetyMethods = []struct {
	name string
	call safetyCall
}{
	{"Accumulate", func(ctx context.Context, conn *grpc.ClientConn, i int) error {
		r, err := calcpb.NewCalculatorClient(conn).Accumulate(ctx, &calcpb.AccumulateRequest{Value: int32(i)})
		if err == nil && r.GetResult() != int32(i) {
			return fmt.Errorf("Accumulate(%d) = %d, want %d", i, r.GetResult(), i)
		}
		return err
	}},
	{"RecordRoute", func(ctx context.Context, conn *grpc.ClientConn, i int) error {
		st, err := pb.NewRouteGuideClient(conn).RecordRoute(ctx)
		if err != nil {
			return err
		}
		for j := range 3 {
			if err := st.Send(&pb.Point{Latitude: int32(i), Longitude: int32(j)}); err != nil {
				break // io.EOF: CloseAndRecv has the status
			}
		}
		sum, err := st.CloseAndRecv()
		if err == nil && sum.GetPointCount() != 3 {
			return fmt.Errorf("RecordRoute: %d points counted, want 3", sum.GetPointCount())
		}
		return err
	}},
	{"RouteChat", func(ctx context.Context, conn *grpc.ClientConn, i int) error {
		st, err := pb.NewRouteGuideClient(conn).RouteChat(ctx)
		if err != nil {
			return err
		}
		for j := range 3 {
			if err := st.Send(&pb.RouteNote{Message: fmt.Sprint(i, "/", j)}); err != nil {
				break
			}
		}
		if err := st.CloseSend(); err != nil {
			return err
		}
		notes, err := recvAll(st.Recv)
		if err != nil {
			return err
		}
		if got, want := noteMessages(notes), []string{fmt.Sprint(i, "/0"), fmt.Sprint(i, "/1"), fmt.Sprint(i, "/2")}; fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("RouteChat: got notes %q, want %q", got, want)
		}
		return nil
	}},
}

// safetyRun is what one run of every method's calls showed.
type safetyRun struct {
	calls, ok  int
	duplicates []string // call ids with more than one side effect, in order
	reasons    map[string]int
	faults     [numFaults]int
}

// runSafety makes callsPerMethod calls of every method, workers at a time,
// through the interceptors built from opts, against a fresh safetyServer.
func runSafety(t *testing.T, seed uint64, callsPerMethod, workers int, opts ...interceptors.Option) safetyRun {
	t.Helper()
	s := &safetyServer{seed: seed, effects: map[string]int{}}
	srv := stubserver.StartTCP(t, s.handlers(),
		stubserver.WithListener(func(l net.Listener) net.Listener { return trackingListener{l, s} }),
		stubserver.WithRegister(func(r grpc.ServiceRegistrar) { calcpb.RegisterCalculatorServer(r, s) }))
	conn := srv.Dial(t, interceptors.DialOptions(opts...)...)

	type result struct {
		id  string
		err error
	}
	jobs := make(chan [2]int)
	results := make(chan result)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for job := range jobs {
				m, i := safetyMethods[job[0]], job[1]
				id := fmt.Sprintf("%s-%d", m.name, i)
				ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(context.Background(), callIDKey, id), stubserver.DefaultTimeout)
				err := m.call(ctx, conn, i)
				cancel()
				results <- result{id, err}
			}
		}()
	}
	go func() {
		for i := range callsPerMethod {
			for m := range safetyMethods {
				jobs <- [2]int{m, i}
			}
		}
		close(jobs)
		wg.Wait()
		close(results)
	}()

	run := safetyRun{reasons: map[string]int{}}
	outcome := map[string]error{}
	for r := range results {
		run.calls++
		outcome[r.id] = r.err
		attempts, reason, _ := retry.Info(r.err)
		switch {
		case r.err == nil:
			run.ok++
			run.reasons["succeeded"]++
		case attempts == 0:
			t.Errorf("call %s: error %v carries no retry information", r.id, r.err)
		default:
			run.reasons[fmt.Sprintf("%v/%v", status.Code(r.err), reason)]++
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, err := range outcome {
		n := s.effects[id]
		if n > 1 {
			run.duplicates = append(run.duplicates, id)
		}
		if err == nil && n == 0 {
			t.Errorf("call %s succeeded with no side effect, want 1", id)
		}
		if err != nil && errors.Is(err, io.EOF) {
			t.Errorf("call %s: error %v, want a status", id, err)
		}
	}
	slices.Sort(run.duplicates)
	run.faults = s.faults
	return run
}

// countSucceededAfterRetry is an observer counting the calls that succeeded
// on a later attempt.
func countSucceededAfterRetry(n *int, mu *sync.Mutex) interceptors.Option {
	return interceptors.WithObserver(func(_ context.Context, e retry.Event) {
		if e.Code == codes.OK && e.Attempt > 1 {
			mu.Lock()
			*n++
			mu.Unlock()
		}
	})
}

// TestNoDuplicateSideEffects: under the default policy (retries with no
// code list, so the default classification applies), no call of a method
// that is not idempotent acts twice on the server, whatever the failure:
// an Ambiguous code after acting, a connection lost after acting, or the
// attempt's timeout after acting. Failures the server answered before
// acting (UNAVAILABLE) are still retried to success.
func TestNoDuplicateSideEffects(t *testing.T) {
	const (
		callsPerMethod = 120
		workers        = 4
	)
	var retriedOK int
	var mu sync.Mutex
	run := runSafety(t, 1, callsPerMethod, workers,
		interceptors.WithRetryTimes(4),
		interceptors.WithPerAttemptTimeout(250*time.Millisecond),
		countSucceededAfterRetry(&retriedOK, &mu))
	t.Logf("%d calls: %d OK (%d after a retry); outcomes %v; faults per attempt %v %v",
		run.calls, run.ok, retriedOK, run.reasons, faultNames, run.faults)

	if want := callsPerMethod * len(safetyMethods); run.calls != want {
		t.Errorf("%d calls finished, want %d", run.calls, want)
	}
	if len(run.duplicates) > 0 {
		t.Errorf("%d calls acted more than once on the server: %v", len(run.duplicates), run.duplicates)
	}
	for f := faultNone; f < numFaults; f++ {
		if run.faults[f] == 0 {
			t.Errorf("no attempt got fault %s: the run proves nothing about it", faultNames[f])
		}
	}
	if retriedOK == 0 {
		t.Errorf("no call succeeded after a retry: retrying is not on")
	}
	for k := range run.reasons {
		switch {
		case k == "succeeded", k == "Unavailable/unanswered", k == "Unavailable/exhausted",
			strings.HasSuffix(k, "/committed"), // a RouteChat that had answered, cut by another call's drop
			k == "DeadlineExceeded/non-retryable", k == "Internal/non-retryable", k == "Unknown/non-retryable",
			k == "Aborted/non-retryable", k == "ResourceExhausted/non-retryable":
		default:
			t.Errorf("outcome %s (%d calls): want success, an Ambiguous code not retried, a committed call, or UNAVAILABLE unanswered or exhausted", k, run.reasons[k])
		}
	}
	if run.reasons["Unavailable/unanswered"] == 0 {
		t.Errorf("no call stopped as unanswered after a lost connection: outcomes %v", run.reasons)
	}
}

// TestExplicitCodesRetryUnanswered documents the other side: a policy that
// lists UNAVAILABLE is followed as written, as grpc-go's retry does, so a
// request lost with its connection is retried even though the server may
// have acted on it. Only idempotent methods belong in such a policy. The
// test also shows that the ledger above does catch duplicates.
func TestExplicitCodesRetryUnanswered(t *testing.T) {
	run := runSafety(t, 1, 60, 4,
		interceptors.WithRetryTimes(4),
		interceptors.WithCodes(codes.Unavailable),
		interceptors.WithPerAttemptTimeout(250*time.Millisecond))
	t.Logf("%d calls: %d OK; %d duplicated; outcomes %v; faults per attempt %v %v",
		run.calls, run.ok, len(run.duplicates), run.reasons, faultNames, run.faults)
	if len(run.duplicates) == 0 {
		t.Errorf("no duplicate side effect with UNAVAILABLE listed and %d connection drops after acting, want some", run.faults[faultDropAfter])
	}
}
