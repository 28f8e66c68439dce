package soak

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/retry"
)

// kind is one of the four RPC kinds of the route guide.
type kind int

const (
	getFeature   kind = iota // unary
	listFeatures             // server stream
	recordRoute              // client stream
	routeChat                // bidi stream
	numKinds
)

var kindNames = [numKinds]string{"GetFeature", "ListFeatures", "RecordRoute", "RouteChat"}

var kindMethods = [numKinds]string{methodGetFeature, methodListFeatures, methodRecordRoute, methodRouteChat}

func (k kind) String() string { return kindNames[k] }

// finishSlack is how long past its deadline a call may take to return,
// besides the time the whole process stalled meanwhile (see
// stallMonitor), before the soak counts it as a call that did not finish:
// the deadline's timer, the scheduler and the race detector on a busy
// 2-core machine.
const finishSlack = 2 * time.Second

// lateAfter is how long past its deadline a call may return before the
// report counts it as late: a timer firing late on a busy machine.
const lateAfter = 100 * time.Millisecond

// maxFailures is how many failure descriptions a tally keeps; the rest are
// only counted.
const maxFailures = 20

// tally counts one worker's outcomes; merged after the soak.
type tally struct {
	calls, ok [numKinds]int64
	// attempts counts the finished attempts the library's observer
	// reported for the calls of each kind.
	attempts [numKinds]int64
	// errByKind counts failed calls by kind; partial, those that failed
	// after part of a streamed answer arrived (a checked prefix).
	errByKind, partial [numKinds]int64
	byCode             map[codes.Code]int64
	byReason           map[string]int64
	maxElapsed         time.Duration
	// late holds the calls that returned more than lateAfter past their
	// deadline, judged after the soak (see judgeLate), when every stall
	// of the process is known.
	late      []lateCall
	failures  []string
	nFailures int64
}

func newTally() tally {
	return tally{byCode: map[codes.Code]int64{}, byReason: map[string]int64{}}
}

func (t *tally) fail(format string, args ...any) {
	t.nFailures++
	if len(t.failures) < maxFailures {
		t.failures = append(t.failures, fmt.Sprintf(format, args...))
	}
}

func (t *tally) merge(o *tally) {
	for k := range numKinds {
		t.calls[k] += o.calls[k]
		t.ok[k] += o.ok[k]
		t.attempts[k] += o.attempts[k]
		t.errByKind[k] += o.errByKind[k]
		t.partial[k] += o.partial[k]
	}
	for c, n := range o.byCode {
		t.byCode[c] += n
	}
	for r, n := range o.byReason {
		t.byReason[r] += n
	}
	t.maxElapsed = max(t.maxElapsed, o.maxElapsed)
	t.late = append(t.late, o.late...)
	t.nFailures += o.nFailures
	for _, f := range o.failures {
		if len(t.failures) < maxFailures {
			t.failures = append(t.failures, f)
		}
	}
}

func (t *tally) total() (calls, ok int64) {
	for k := range numKinds {
		calls += t.calls[k]
		ok += t.ok[k]
	}
	return calls, ok
}

// worker makes calls of all four kinds in turn on one connection.
type worker struct {
	id          int
	mode        *mode
	client      pb.RouteGuideClient
	pools       *pools
	rng         *rand.Rand
	callTimeout time.Duration
	stalls      *stallMonitor
	t           tally
}

// run makes calls until stopAt, or until the soak's calls reach maxCalls;
// finished counts the calls that ended, for the samples.
func (w *worker) run(stopAt time.Time, started, finished *atomic.Int64, maxCalls int64) {
	for i := w.id; ; i++ {
		if !time.Now().Before(stopAt) || started.Add(1) > maxCalls {
			return
		}
		w.one(kind(i % int(numKinds)))
		finished.Add(1)
	}
}

// one makes a call of kind k with its own deadline and checks how it ended.
func (w *worker) one(k kind) {
	tr := &trace{}
	ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), traceKey{}, tr), w.callTimeout)
	start := time.Now()
	var (
		problem  string
		received int
		err      error
	)
	switch k {
	case getFeature:
		problem, err = w.getFeature(ctx)
	case listFeatures:
		problem, received, err = w.listFeatures(ctx)
	case recordRoute:
		problem, err = w.recordRoute(ctx)
	case routeChat:
		problem, received, err = w.routeChat(ctx)
	}
	end := time.Now()
	elapsed := end.Sub(start)
	cancel()

	t := &w.t
	t.calls[k]++
	t.attempts[k] += tr.done.Load()
	t.maxElapsed = max(t.maxElapsed, elapsed)
	if elapsed-w.callTimeout > lateAfter {
		t.late = append(t.late, lateCall{k: k, mode: w.mode.name, start: start, end: end, result: errText(err)})
	}
	if done, most := tr.done.Load(), int64(w.mode.maxAttempts(kindMethods[k])); done > most {
		t.fail("%v: the library's observer saw %d attempts finish, want at most %d [%s]", k, done, most, w.mode.name)
	}
	if problem != "" {
		t.fail("%s [%s]", problem, w.mode.name)
	}
	if err == nil {
		if problem == "" {
			t.ok[k]++
		}
		if done := tr.done.Load(); done < 1 {
			t.fail("%v succeeded, and the library's observer saw %d finished attempts, want at least 1 [%s]", k, done, w.mode.name)
		}
		return
	}
	t.errByKind[k]++
	if received > 0 {
		t.partial[k]++
	}
	t.byCode[status.Code(err)]++
	if _, reason, ok := retry.Info(err); ok {
		t.byReason[reason.String()]++
	} else {
		t.byReason["(no retry info)"]++
	}
	if why := w.dishonest(k, err, received, tr); why != "" {
		t.fail("%v error %q is not honest: %s [%s]", k, err, why, w.mode.name)
	}
}

// sentinels are the retry package's errors by stop reason, for errors.Is.
var sentinels = map[retry.StopReason]error{
	retry.Exhausted: retry.ErrExhausted, retry.NonRetryable: retry.ErrNonRetryable,
	retry.Throttled: retry.ErrThrottled, retry.PushbackStop: retry.ErrPushback,
	retry.Deadline: retry.ErrDeadline, retry.Canceled: retry.ErrCanceled,
	retry.Committed: retry.ErrCommitted,
}

// dishonest says what is wrong with the error of a call of kind k, or ""
// for an honest error: a gRPC status with a failing code and a message,
// carrying the library's attempts and stop reason, which agree with the
// mode's policy, with the observer, and with what the caller received.
func (w *worker) dishonest(k kind, err error, received int, tr *trace) string {
	method := kindMethods[k]
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Sprintf("not a gRPC status error (%T)", err)
	}
	c := st.Code()
	if c == codes.OK || c > codes.Unauthenticated {
		return fmt.Sprintf("code %v is not a failing gRPC code", c)
	}
	if strings.TrimSpace(st.Message()) == "" {
		return "the status message is empty"
	}
	attempts, reason, ok := retry.Info(err)
	if !ok {
		return "retry.Info found no attempts or stop reason"
	}
	m := w.mode
	maxAttempts := m.maxAttempts(method)
	retried := m.retried(method, c)
	switch {
	case attempts < 1 || attempts > maxAttempts:
		return fmt.Sprintf("%d attempts, want 1 to %d", attempts, maxAttempts)
	case reason == retry.Succeeded || strings.HasPrefix(reason.String(), "StopReason("):
		return fmt.Sprintf("stop reason %v cannot end a failed call", reason)
	case sentinels[reason] != nil && !errors.Is(err, sentinels[reason]):
		return fmt.Sprintf("errors.Is(err, the %v sentinel) = false", reason)
	case reason == retry.Exhausted && attempts != maxAttempts:
		return fmt.Sprintf("exhausted after %d attempts of %d", attempts, maxAttempts)
	case reason == retry.Exhausted && !retried:
		return fmt.Sprintf("exhausted, but %v is not retried for %s", c, method)
	case reason == retry.NonRetryable && retried:
		return fmt.Sprintf("non-retryable, but %v is retried for %s", c, method)
	case reason == retry.Throttled && !m.throttled:
		return "throttled, but the mode has no retry throttle"
	case reason == retry.Canceled:
		return "canceled, but the caller never cancelled"
	case reason == retry.PushbackStop:
		return "pushback said stop, but the server only sends pushbacks >= 0"
	case received > 0 && reason != retry.Committed && reason != retry.Deadline:
		return fmt.Sprintf("%d messages arrived, then retrying stopped for %v, want committed (or deadline)", received, reason)
	case !m.hedged(method) && tr.done.Load() != int64(attempts):
		return fmt.Sprintf("retry.Info says %d attempts, the library's observer saw %d finish", attempts, tr.done.Load())
	}
	return ""
}

func (w *worker) getFeature(ctx context.Context) (string, error) {
	c := &w.pools.points[w.rng.IntN(len(w.pools.points))]
	got, err := w.client.GetFeature(ctx, proto.Clone(c.req).(*pb.Point))
	if err != nil {
		return "", err
	}
	if !proto.Equal(got, c.want) {
		return fmt.Sprintf("GetFeature(%v) = %v, want %v", c.req, got, c.want), nil
	}
	return "", nil
}

// listFeatures returns, besides the problem and the error, how many
// features arrived before an error.
func (w *worker) listFeatures(ctx context.Context) (string, int, error) {
	c := &w.pools.rects[w.rng.IntN(len(w.pools.rects))]
	stream, err := w.client.ListFeatures(ctx, proto.Clone(c.req).(*pb.Rectangle))
	if err != nil {
		return "", 0, err
	}
	var got []*pb.Feature
	for {
		f, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			if !prefix(got, c.want) {
				return fmt.Sprintf("ListFeatures(%v) = %v before %v, want a prefix of %v", c.req, got, status.Code(err), c.want), len(got), err
			}
			return "", len(got), err
		}
		got = append(got, f)
		if len(got) > len(c.want) {
			return fmt.Sprintf("ListFeatures(%v) = more than the %d features %v", c.req, len(c.want), c.want), len(got), nil
		}
	}
	if !prefix(got, c.want) || len(got) != len(c.want) {
		return fmt.Sprintf("ListFeatures(%v) = %v, want %v", c.req, got, c.want), len(got), nil
	}
	return "", len(got), nil
}

func (w *worker) recordRoute(ctx context.Context) (string, error) {
	c := &w.pools.routes[w.rng.IntN(len(w.pools.routes))]
	stream, err := w.client.RecordRoute(ctx)
	if err != nil {
		return "", err
	}
	for _, p := range c.points {
		if err := stream.Send(proto.Clone(p).(*pb.Point)); err != nil {
			if err == io.EOF { // the call ended: CloseAndRecv has its status
				break
			}
			return "", err
		}
	}
	got, err := stream.CloseAndRecv()
	if err != nil {
		return "", err
	}
	maxSeconds := int32(math.Ceil(w.callTimeout.Seconds()))
	if got.GetPointCount() != c.want.GetPointCount() || got.GetFeatureCount() != c.want.GetFeatureCount() ||
		got.GetDistance() != c.want.GetDistance() || got.GetElapsedTime() < 0 || got.GetElapsedTime() > maxSeconds {
		return fmt.Sprintf("RecordRoute(%d points) = %v, want %v with elapsed_time 0 to %d", len(c.points), got, c.want, maxSeconds), nil
	}
	return "", nil
}

// routeChat returns, besides the problem and the error, how many replies
// arrived before an error.
func (w *worker) routeChat(ctx context.Context) (string, int, error) {
	c := &w.pools.chats[w.rng.IntN(len(w.pools.chats))]
	stream, err := w.client.RouteChat(ctx)
	if err != nil {
		return "", 0, err
	}
	for _, n := range c.notes {
		if err := stream.Send(proto.Clone(n).(*pb.RouteNote)); err != nil {
			if err == io.EOF { // the call ended: Recv has its status
				break
			}
			return "", 0, err
		}
	}
	if err := stream.CloseSend(); err != nil {
		return "", 0, err
	}
	var got []*pb.RouteNote
	for {
		n, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			if !prefix(got, c.want) {
				return fmt.Sprintf("RouteChat(%d notes) = %v before %v, want a prefix of %v", len(c.notes), got, status.Code(err), c.want), len(got), err
			}
			return "", len(got), err
		}
		got = append(got, n)
		if len(got) > len(c.want) {
			return fmt.Sprintf("RouteChat(%d notes) = more than the %d replies %v", len(c.notes), len(c.want), c.want), len(got), nil
		}
	}
	if !prefix(got, c.want) || len(got) != len(c.want) {
		return fmt.Sprintf("RouteChat(%d notes) = %v, want %v", len(c.notes), got, c.want), len(got), nil
	}
	return "", len(got), nil
}

// prefix reports whether got is a prefix of want, message by message.
func prefix[M proto.Message](got, want []M) bool {
	if len(got) > len(want) {
		return false
	}
	for i := range got {
		if !proto.Equal(got[i], want[i]) {
			return false
		}
	}
	return true
}

// lateCall is a call that returned more than lateAfter past its deadline.
type lateCall struct {
	k          kind
	mode       string
	start, end time.Time
	result     string // the error's text, or OK
}

// judgeLate fails the late calls that overran their deadline by more than
// finishSlack plus the time the process stalled while they ran, and
// describes the first maxFailures of them all.
func (t *tally) judgeLate(callTimeout time.Duration, stalls *stallMonitor) (described []string) {
	for _, l := range t.late {
		took := l.end.Sub(l.start)
		stalled := stalls.during(l.start, l.end)
		from := l.start.Sub(stalls.start).Round(time.Millisecond)
		if took-callTimeout > finishSlack+stalled {
			t.fail("%v took %v (from %v into the soak), past its %v deadline by more than %v plus the %v the process stalled meanwhile; it returned %s [%s]",
				l.k, took.Round(time.Millisecond), from, callTimeout, finishSlack, stalled.Round(time.Millisecond), l.result, l.mode)
		}
		if len(described) < maxFailures {
			described = append(described, fmt.Sprintf("%v took %v from %v, while the process stalled %v; it returned %s [%s]",
				l.k, took.Round(time.Millisecond), from, stalled.Round(time.Millisecond), l.result, l.mode))
		}
	}
	return described
}

// errText is err's text, "OK" for nil.
func errText(err error) string {
	if err == nil {
		return "OK"
	}
	return err.Error()
}
