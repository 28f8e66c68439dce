package interceptors

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	middleware "github.com/grpc-ecosystem/go-grpc-middleware/v2"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// pushbackKey is the trailer that tells a client when to retry (gRFC A6).
const pushbackKey = "grpc-retry-pushback-ms"

// defaultShedPushback is how long a shed call's client is told to wait.
const defaultShedPushback = 50 * time.Millisecond

// Server is the server side of the contract: it guards deadlines, sheds
// load over its concurrency limits with a pushback clients obey, gives
// handler results honest status codes, and turns handler panics into
// INTERNAL. For each call, in order:
//
//  1. Deadline guard: a call whose deadline has passed, or leaves less than
//     the minimum budget, is answered DEADLINE_EXCEEDED (trailers-only, with
//     a pushback of -1: a retry would have less time still) before the
//     handler runs, and counted in Expired.
//  2. Load shedding: a call over the server's or its method's concurrency
//     limit is answered with the shed code (UNAVAILABLE by default) and the
//     trailer grpc-retry-pushback-ms, before the handler runs, and counted
//     in Shed. Calls never queue, so none waits past its deadline.
//  3. Deadline cap: the handler's context ends at the call's deadline or
//     after the maximum deadline, whichever comes first; a call with no
//     deadline gets the maximum. grpc cannot end the call itself early: a
//     streaming handler blocked receiving from a client that sends nothing
//     stays blocked, so such handlers must watch stream.Context().
//  4. The handler runs under go-grpc-middleware's recovery interceptor: a
//     panic becomes INTERNAL (its value is not sent to the client; the panic
//     handler sees it) and the server keeps serving.
//  5. Status normalisation: a context error becomes DEADLINE_EXCEEDED or
//     CANCELLED, a plain Go error UNKNOWN with its message kept; status
//     errors pass unchanged.
//
// A Server is safe for concurrent use; its interceptors share its limits
// and counters.
type Server struct {
	minBudget    time.Duration
	maxDeadline  time.Duration
	limit        int64
	methodLimits map[string]*slots
	all          slots
	shedCode     codes.Code
	shedTrailer  metadata.MD
	stopTrailer  metadata.MD // a pushback that tells clients not to retry
	onPanic      func(ctx context.Context, p any, stack []byte)
	recoverUnary grpc.UnaryServerInterceptor
	recoverStrm  grpc.StreamServerInterceptor
	clock        clock

	calls, expired, shed, panics atomic.Uint64
}

// ServerStats are a Server's counters since it was made.
type ServerStats struct {
	// Calls counts every call the interceptors saw.
	Calls uint64
	// Expired counts calls the deadline guard rejected.
	Expired uint64
	// Shed counts calls rejected over a concurrency limit.
	Shed uint64
	// Panics counts handler panics turned into INTERNAL.
	Panics uint64
	// InFlight is the number of handlers running now.
	InFlight int64
}

// slots bounds how many handlers run at once; a limit of 0 is no bound.
type slots struct {
	limit int64
	n     atomic.Int64
}

// take takes a slot if one is free.
func (s *slots) take() bool {
	for {
		n := s.n.Load()
		if s.limit > 0 && n >= s.limit {
			return false
		}
		if s.n.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

func (s *slots) release() { s.n.Add(-1) }

// ServerOption configures a Server.
type ServerOption struct {
	apply func(*serverOptions)
}

type serverOptions struct {
	minBudget    time.Duration
	maxDeadline  time.Duration
	limit        int
	methodLimits map[string]int
	shedCode     codes.Code
	shedPushback time.Duration
	onPanic      func(ctx context.Context, p any, stack []byte)
	clock        clock
}

// WithMinBudget makes the deadline guard reject calls whose deadline leaves
// less than d: work that cannot finish in time is not started. Calls whose
// deadline has already passed are always rejected. d must be >= 0.
//
// Default: 0, only calls already past their deadline are rejected.
func WithMinBudget(d time.Duration) ServerOption {
	return ServerOption{apply: func(o *serverOptions) { o.minBudget = d }}
}

// WithMaxDeadline gives every handler at most d: a call with no deadline, or
// a later one, runs with a deadline d after it arrived. d must be >= 0.
//
// Default: 0, no server-side deadline.
func WithMaxDeadline(d time.Duration) ServerOption {
	return ServerOption{apply: func(o *serverOptions) { o.maxDeadline = d }}
}

// WithConcurrencyLimit sheds calls while n handlers of the server (all
// methods) are running. n must be >= 0.
//
// Default: 0, no limit.
func WithConcurrencyLimit(n int) ServerOption {
	return ServerOption{apply: func(o *serverOptions) { o.limit = n }}
}

// WithMethodConcurrencyLimit sheds calls of fullMethod
// ("/pkg.Service/Method") while n of its handlers are running; it applies
// with the server's limit, if any. n must be >= 1. Given twice for one
// method, the last wins.
//
// Default: no per-method limit.
func WithMethodConcurrencyLimit(fullMethod string, n int) ServerOption {
	return ServerOption{apply: func(o *serverOptions) {
		if o.methodLimits == nil {
			o.methodLimits = map[string]int{}
		}
		o.methodLimits[fullMethod] = n
	}}
}

// WithShedCode sets the status of a shed call: codes.Unavailable, which
// every client may retry (the handler never ran), or
// codes.ResourceExhausted.
//
// Default: codes.Unavailable.
func WithShedCode(c codes.Code) ServerOption {
	return ServerOption{apply: func(o *serverOptions) { o.shedCode = c }}
}

// WithShedPushback sets the grpc-retry-pushback-ms of shed calls: clients
// of this library (and grpc-go's own retry) wait exactly d before their
// next attempt. A negative d tells clients not to retry at all. Its
// milliseconds must fit in an int32.
//
// Default: 50ms.
func WithShedPushback(d time.Duration) ServerOption {
	return ServerOption{apply: func(o *serverOptions) { o.shedPushback = d }}
}

// WithPanicHandler sets what sees a handler's panic (its value and stack)
// before the call is answered INTERNAL.
//
// Default: an error logged with slog.Default().
func WithPanicHandler(f func(ctx context.Context, p any, stack []byte)) ServerOption {
	return ServerOption{apply: func(o *serverOptions) { o.onPanic = f }}
}

// NewServer returns a Server configured by opts, or an error naming the
// first invalid option and its value.
func NewServer(opts ...ServerOption) (*Server, error) {
	o := serverOptions{shedCode: codes.Unavailable, shedPushback: defaultShedPushback, clock: realClock{}}
	for _, opt := range opts {
		if opt.apply != nil {
			opt.apply(&o)
		}
	}
	switch {
	case o.minBudget < 0:
		return nil, fmt.Errorf("interceptors: WithMinBudget(%v): must be >= 0", o.minBudget)
	case o.maxDeadline < 0:
		return nil, fmt.Errorf("interceptors: WithMaxDeadline(%v): must be >= 0", o.maxDeadline)
	case o.limit < 0:
		return nil, fmt.Errorf("interceptors: WithConcurrencyLimit(%d): must be >= 0", o.limit)
	case o.shedCode != codes.Unavailable && o.shedCode != codes.ResourceExhausted:
		return nil, fmt.Errorf("interceptors: WithShedCode(%v): must be UNAVAILABLE or RESOURCE_EXHAUSTED", o.shedCode)
	case pushbackMs(o.shedPushback) > math.MaxInt32:
		return nil, fmt.Errorf("interceptors: WithShedPushback(%v): milliseconds must fit in an int32", o.shedPushback)
	}
	s := &Server{
		minBudget:   o.minBudget,
		maxDeadline: o.maxDeadline,
		all:         slots{limit: int64(o.limit)},
		shedCode:    o.shedCode,
		shedTrailer: metadata.Pairs(pushbackKey, strconv.FormatInt(pushbackMs(o.shedPushback), 10)),
		stopTrailer: metadata.Pairs(pushbackKey, "-1"),
		onPanic:     o.onPanic,
		clock:       o.clock,
	}
	for _, m := range slices.Sorted(maps.Keys(o.methodLimits)) {
		n := o.methodLimits[m]
		if !validFullMethod(m) {
			return nil, fmt.Errorf("interceptors: WithMethodConcurrencyLimit(%q, %d): the method must be \"/package.Service/Method\"", m, n)
		}
		if n < 1 {
			return nil, fmt.Errorf("interceptors: WithMethodConcurrencyLimit(%q, %d): must be >= 1", m, n)
		}
		if s.methodLimits == nil {
			s.methodLimits = map[string]*slots{}
		}
		s.methodLimits[m] = &slots{limit: int64(n)}
	}
	if s.onPanic == nil {
		s.onPanic = logPanic
	}
	handler := recovery.WithRecoveryHandlerContext(s.recovered)
	s.recoverUnary = recovery.UnaryServerInterceptor(handler)
	s.recoverStrm = recovery.StreamServerInterceptor(handler)
	return s, nil
}

// validFullMethod reports whether m has the form "/service/method".
func validFullMethod(m string) bool {
	service, method, ok := strings.Cut(strings.TrimPrefix(m, "/"), "/")
	return strings.HasPrefix(m, "/") && ok && service != "" && method != "" && !strings.Contains(method, "/")
}

// pushbackMs is d in milliseconds, rounded up so that a positive d never
// reads "retry at once"; a negative d is -1 (do not retry).
func pushbackMs(d time.Duration) int64 {
	if d < 0 {
		return -1
	}
	ms := int64(d / time.Millisecond)
	if d%time.Millisecond != 0 {
		ms++
	}
	return ms
}

func logPanic(ctx context.Context, p any, stack []byte) {
	slog.Default().ErrorContext(ctx, "grpc-resilience: handler panicked", "panic", p, "stack", string(stack))
}

// recovered is the recovery interceptor's handler: it counts the panic,
// hands it to the panic handler, and answers INTERNAL.
func (s *Server) recovered(ctx context.Context, p any) error {
	s.panics.Add(1)
	stack := make([]byte, 64<<10)
	stack = stack[:runtime.Stack(stack, false)]
	s.onPanic(ctx, p, stack)
	return status.Error(codes.Internal, "grpc-resilience: the handler panicked")
}

// Stats returns the Server's counters.
func (s *Server) Stats() ServerStats {
	return ServerStats{
		Calls:    s.calls.Load(),
		Expired:  s.expired.Load(),
		Shed:     s.shed.Load(),
		Panics:   s.panics.Load(),
		InFlight: s.all.n.Load(),
	}
}

// admit runs the deadline guard and takes the call's concurrency slots. On
// success it returns the handler's context, the cancel of its capped
// deadline (nil for none) and the method's slots (nil for none), which end
// must be given; otherwise the status error to answer with, its trailer set
// with setTrailer.
func (s *Server) admit(ctx context.Context, method string, setTrailer func(metadata.MD) error) (context.Context, context.CancelFunc, *slots, error) {
	s.calls.Add(1)
	now := s.clock.Now()
	if dl, ok := ctx.Deadline(); ok {
		if left := dl.Sub(now); left <= 0 || left < s.minBudget {
			s.expired.Add(1)
			// A retry would have even less time: tell clients not to.
			_ = setTrailer(s.stopTrailer)
			return nil, nil, nil, status.Errorf(codes.DeadlineExceeded,
				"grpc-resilience: %v left of the deadline, below the server's minimum budget of %v", max(left, 0), s.minBudget)
		}
	}
	ms := s.methodLimits[method]
	if ms != nil && !ms.take() {
		return nil, nil, nil, s.shedCall(method, setTrailer)
	}
	if !s.all.take() {
		if ms != nil {
			ms.release()
		}
		return nil, nil, nil, s.shedCall(method, setTrailer)
	}
	var cancel context.CancelFunc
	if s.maxDeadline > 0 {
		ctx, cancel = context.WithDeadline(ctx, now.Add(s.maxDeadline))
	}
	return ctx, cancel, ms, nil
}

// end ends an admitted call: it releases its deadline and its slots.
func (s *Server) end(cancel context.CancelFunc, ms *slots) {
	if cancel != nil {
		cancel()
	}
	s.all.release()
	if ms != nil {
		ms.release()
	}
}

// shedCall counts a shed call, sets its pushback trailer, and returns its
// status.
func (s *Server) shedCall(method string, setTrailer func(metadata.MD) error) error {
	s.shed.Add(1)
	// The trailer goes out with the status, trailers-only; setting it
	// fails only off a server call, where there is no one to tell.
	_ = setTrailer(s.shedTrailer)
	return status.Errorf(s.shedCode, "grpc-resilience: %s is over its concurrency limit", method)
}

// UnaryServerInterceptor returns the Server's unary interceptor.
func (s *Server) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		hctx, cancel, ms, err := s.admit(ctx, info.FullMethod, func(md metadata.MD) error { return grpc.SetTrailer(ctx, md) })
		if err != nil {
			return nil, err
		}
		defer s.end(cancel, ms)
		resp, err := s.recoverUnary(hctx, req, info, handler)
		return resp, normalizeErr(err)
	}
}

// StreamServerInterceptor returns the Server's stream interceptor.
func (s *Server) StreamServerInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		hctx, cancel, ms, err := s.admit(ss.Context(), info.FullMethod, func(md metadata.MD) error { ss.SetTrailer(md); return nil })
		if err != nil {
			return err
		}
		defer s.end(cancel, ms)
		if cancel != nil {
			// A wrapper of its own: middleware.WrapServerStream would hand
			// back an outer interceptor's, whose context is not ours.
			ss = &middleware.WrappedServerStream{ServerStream: ss, WrappedContext: hctx}
		}
		return normalizeErr(s.recoverStrm(srv, ss, info, handler))
	}
}

// normalizeErr gives a handler's error an honest status for the
// interceptors outside this one (grpc-go does the same for the client):
// status errors pass, context errors become DEADLINE_EXCEEDED or CANCELLED,
// and any other error UNKNOWN with its message.
func normalizeErr(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	return status.FromContextError(err).Err()
}

// UnaryServerInterceptor returns the unary interceptor of a Server made
// from opts. Each call of it (and of StreamServerInterceptor) makes a
// Server of its own, with limits and counters of its own: use NewServer to
// share one between both kinds of call, to read its counters, and to see an
// invalid option's error at start-up. Here an invalid option cannot be
// reported: every call is answered INTERNAL with its error.
func UnaryServerInterceptor(opts ...ServerOption) grpc.UnaryServerInterceptor {
	s, err := NewServer(opts...)
	if err != nil {
		return func(context.Context, any, *grpc.UnaryServerInfo, grpc.UnaryHandler) (any, error) {
			return nil, status.Error(codes.Internal, err.Error())
		}
	}
	return s.UnaryServerInterceptor()
}

// StreamServerInterceptor returns the stream interceptor of a Server made
// from opts; invalid options are handled as by UnaryServerInterceptor.
func StreamServerInterceptor(opts ...ServerOption) grpc.StreamServerInterceptor {
	s, err := NewServer(opts...)
	if err != nil {
		return func(any, grpc.ServerStream, *grpc.StreamServerInfo, grpc.StreamHandler) error {
			return status.Error(codes.Internal, err.Error())
		}
	}
	return s.StreamServerInterceptor()
}
