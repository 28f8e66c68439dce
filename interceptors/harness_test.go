package interceptors_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/internal/stubserver"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// script answers the attempts of calls in turn: attempt i gets codes[i] (OK
// past the end), with pushback[i] as grpc-retry-pushback-ms when non-empty.
// It records what each attempt saw.
type script struct {
	codes    []codes.Code
	pushback []string

	mu       sync.Mutex
	attempts int
	prev     []string // grpc-previous-rpc-attempts of each attempt, "" when absent
}

func newScript(cs ...codes.Code) *script { return &script{codes: cs} }

// next records an attempt and returns its scripted error, nil for OK.
func (s *script) next(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.attempts
	s.attempts++
	prev := ""
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get("grpc-previous-rpc-attempts"); len(v) > 0 {
			prev = v[0]
		}
	}
	s.prev = append(s.prev, prev)
	if i < len(s.pushback) && s.pushback[i] != "" {
		grpc.SetTrailer(ctx, metadata.Pairs("grpc-retry-pushback-ms", s.pushback[i]))
	}
	if i >= len(s.codes) || s.codes[i] == codes.OK {
		return nil
	}
	return status.Errorf(s.codes[i], "scripted attempt %d", i+1)
}

func (s *script) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

func (s *script) Prev() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.prev...)
}

const (
	featuresPerList = 3
	pointsPerRoute  = 10
	notesPerChat    = 5
)

// handlers serves every route guide method from the script: the scripted
// error comes before any response, so the failure is trailers-only and
// retryable. Client-streaming and bidi handlers read the whole request stream
// first, so a retry must replay every message and the half-close.
func (s *script) handlers() stubserver.Handlers {
	return stubserver.Handlers{
		GetFeature: func(ctx context.Context, p *pb.Point) (*pb.Feature, error) {
			if err := s.next(ctx); err != nil {
				return nil, err
			}
			return &pb.Feature{Name: "feature", Location: p}, nil
		},
		ListFeatures: func(r *pb.Rectangle, stream grpc.ServerStreamingServer[pb.Feature]) error {
			if err := s.next(stream.Context()); err != nil {
				return err
			}
			for i := 0; i < featuresPerList; i++ {
				if err := stream.Send(&pb.Feature{Name: fmt.Sprint("f", i)}); err != nil {
					return err
				}
			}
			return nil
		},
		RecordRoute: func(stream grpc.ClientStreamingServer[pb.Point, pb.RouteSummary]) error {
			points, err := recvAll(stream.Recv)
			if err != nil {
				return err
			}
			if err := s.next(stream.Context()); err != nil {
				return err
			}
			return stream.SendAndClose(&pb.RouteSummary{PointCount: int32(len(points))})
		},
		RouteChat: func(stream grpc.BidiStreamingServer[pb.RouteNote, pb.RouteNote]) error {
			notes, err := recvAll(stream.Recv)
			if err != nil {
				return err
			}
			if err := s.next(stream.Context()); err != nil {
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

// rpcKind runs one complete call of one RPC kind and checks what the caller
// saw: every response exactly once, in order.
type rpcKind struct {
	name string
	call func(ctx context.Context, c pb.RouteGuideClient, opts ...grpc.CallOption) error
}

var errContent = errors.New("wrong response content")

var kinds = []rpcKind{
	{"unary", func(ctx context.Context, c pb.RouteGuideClient, opts ...grpc.CallOption) error {
		f, err := c.GetFeature(ctx, &pb.Point{Latitude: 1, Longitude: 2}, opts...)
		if err != nil {
			return err
		}
		if f.GetName() != "feature" || f.GetLocation().GetLongitude() != 2 {
			return fmt.Errorf("%w: GetFeature = %v", errContent, f)
		}
		return nil
	}},
	{"server-streaming", func(ctx context.Context, c pb.RouteGuideClient, opts ...grpc.CallOption) error {
		stream, err := c.ListFeatures(ctx, &pb.Rectangle{}, opts...)
		if err != nil {
			return err
		}
		features, err := recvAll(stream.Recv)
		if err != nil {
			return err
		}
		var got []string
		for _, f := range features {
			got = append(got, f.GetName())
		}
		if fmt.Sprint(got) != "[f0 f1 f2]" {
			return fmt.Errorf("%w: ListFeatures streamed %v, want [f0 f1 f2]", errContent, got)
		}
		return nil
	}},
	{"client-streaming", func(ctx context.Context, c pb.RouteGuideClient, opts ...grpc.CallOption) error {
		stream, err := c.RecordRoute(ctx, opts...)
		if err != nil {
			return err
		}
		for i := 0; i < pointsPerRoute; i++ {
			if err := stream.Send(&pb.Point{Latitude: int32(i)}); err != nil {
				if err == io.EOF {
					break // the status comes from CloseAndRecv
				}
				return err
			}
		}
		sum, err := stream.CloseAndRecv()
		if err != nil {
			return err
		}
		if sum.GetPointCount() != pointsPerRoute {
			return fmt.Errorf("%w: RecordRoute counted %d points, want %d", errContent, sum.GetPointCount(), pointsPerRoute)
		}
		return nil
	}},
	{"bidi", func(ctx context.Context, c pb.RouteGuideClient, opts ...grpc.CallOption) error {
		stream, err := c.RouteChat(ctx, opts...)
		if err != nil {
			return err
		}
		for i := 0; i < notesPerChat; i++ {
			if err := stream.Send(&pb.RouteNote{Message: fmt.Sprint("n", i)}); err != nil {
				if err == io.EOF {
					break
				}
				return err
			}
		}
		if err := stream.CloseSend(); err != nil {
			return err
		}
		notes, err := recvAll(stream.Recv)
		if err != nil {
			return err
		}
		got := noteMessages(notes)
		if fmt.Sprint(got) != "[n0 n1 n2 n3 n4]" {
			return fmt.Errorf("%w: RouteChat echoed %v, want [n0 n1 n2 n3 n4]", errContent, got)
		}
		return nil
	}},
}

// transports are the two ways tests reach the server.
var transports = []struct {
	name  string
	start func(testing.TB, stubserver.Handlers, ...stubserver.Option) *stubserver.Server
}{
	{"bufconn", stubserver.Start},
	{"tcp", stubserver.StartTCP},
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stubserver.DefaultTimeout)
	t.Cleanup(cancel)
	return ctx
}

// recvAll receives until the end of the stream: it returns every message,
// and the error if the stream ended with one.
func recvAll[T any](recv func() (*T, error)) ([]*T, error) {
	var all []*T
	for {
		m, err := recv()
		if err == io.EOF {
			return all, nil
		}
		if err != nil {
			return all, err
		}
		all = append(all, m)
	}
}

func noteMessages(notes []*pb.RouteNote) []string {
	var out []string
	for _, n := range notes {
		out = append(out, n.GetMessage())
	}
	return out
}

// startScript serves the script's handlers over bufconn.
func startScript(t *testing.T, s *script) *stubserver.Server {
	t.Helper()
	return stubserver.Start(t, s.handlers())
}

func pbClient(conn *grpc.ClientConn) pb.RouteGuideClient { return pb.NewRouteGuideClient(conn) }

type grpcCallOption = grpc.CallOption

// stubHandlersWithTrailer serves GetFeature with UNAVAILABLE and the given
// pushback values in one trailer, counting calls.
func stubHandlersWithTrailer(t *testing.T, calls *atomic.Int32, pushback []string) *stubserver.Server {
	return stubserver.Start(t, stubserver.Handlers{GetFeature: func(ctx context.Context, p *pb.Point) (*pb.Feature, error) {
		calls.Add(1)
		md := metadata.MD{}
		for _, v := range pushback {
			md.Append("grpc-retry-pushback-ms", v)
		}
		grpc.SetTrailer(ctx, md)
		return nil, status.Error(codes.Unavailable, "busy")
	}})
}

// timeLog records times from handler goroutines.
type timeLog struct {
	mu    sync.Mutex
	times []time.Time
}

func (l *timeLog) add(t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.times = append(l.times, t)
}

func (l *timeLog) get() []time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]time.Time(nil), l.times...)
}
