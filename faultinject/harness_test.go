package faultinject_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/faultinject"
	"github.com/resilience-go/grpc-resilience/internal/stubserver"
)

// Each streaming call of the harness moves a fixed number of messages, so
// tests can name the message after which a stream fails.
const (
	featuresPerList = 3 // ListFeatures: 1 request, 3 responses
	pointsPerRoute  = 3 // RecordRoute: 3 requests, 1 response
	notesPerChat    = 3 // RouteChat: 3 requests, each echoed
)

// handled counts the calls that reached a handler.
type handled struct{ n atomic.Int64 }

// handlers answer with fixed message counts and count the calls they see.
func (h *handled) handlers() stubserver.Handlers {
	return stubserver.Handlers{
		GetFeature: func(ctx context.Context, p *pb.Point) (*pb.Feature, error) {
			h.n.Add(1)
			return &pb.Feature{Name: "f", Location: p}, nil
		},
		ListFeatures: func(r *pb.Rectangle, stream grpc.ServerStreamingServer[pb.Feature]) error {
			h.n.Add(1)
			for i := range featuresPerList {
				if err := stream.Send(&pb.Feature{Name: fmt.Sprint(i)}); err != nil {
					return err
				}
			}
			return nil
		},
		RecordRoute: func(stream grpc.ClientStreamingServer[pb.Point, pb.RouteSummary]) error {
			h.n.Add(1)
			var n int32
			for {
				_, err := stream.Recv()
				if errors.Is(err, io.EOF) {
					return stream.SendAndClose(&pb.RouteSummary{PointCount: n})
				}
				if err != nil {
					return err
				}
				n++
			}
		},
		RouteChat: func(stream grpc.BidiStreamingServer[pb.RouteNote, pb.RouteNote]) error {
			h.n.Add(1)
			for {
				note, err := stream.Recv()
				if errors.Is(err, io.EOF) {
					return nil
				}
				if err != nil {
					return err
				}
				if err := stream.Send(note); err != nil {
					return err
				}
			}
		},
	}
}

// faulty is a route guide stub server behind an injector.
type faulty struct {
	in      *faultinject.Injector
	srv     *stubserver.Server
	handled *handled
}

// startFaulty starts a bufconn server whose interceptors inject rules.
// Interceptors given in sopts run outside the injector's.
func startFaulty(t *testing.T, rules []faultinject.Rule, opts []faultinject.Option, sopts ...stubserver.Option) *faulty {
	t.Helper()
	in, err := faultinject.New(rules, opts...)
	if err != nil {
		t.Fatalf("faultinject.New(%v) = %v", rules, err)
	}
	h := &handled{}
	// Interceptors in sopts come first in the chain, outside the injector.
	sopts = append(sopts, stubserver.WithServerOptions(
		grpc.ChainUnaryInterceptor(in.UnaryServerInterceptor()),
		grpc.ChainStreamInterceptor(in.StreamServerInterceptor()),
	))
	return &faulty{in: in, srv: stubserver.Start(t, h.handlers(), sopts...), handled: h}
}

// mustSpec parses a spec that the test knows to be good.
func mustSpec(t *testing.T, spec string) []faultinject.Rule {
	t.Helper()
	rules, err := faultinject.ParseSpec(spec)
	if err != nil {
		t.Fatalf("ParseSpec(%q) = %v", spec, err)
	}
	return rules
}

// outcome is what the client saw of one call: its code and how many
// response messages arrived before the end.
type outcome struct {
	Code     codes.Code
	Messages int
}

// rpcKind makes one complete call of one kind.
type rpcKind struct {
	name   string
	method string
	call   func(ctx context.Context, c pb.RouteGuideClient, opts ...grpc.CallOption) outcome
}

func end(err error, msgs int) outcome { return outcome{Code: status.Code(err), Messages: msgs} }

var kinds = []rpcKind{
	{"unary", "/routeguide.RouteGuide/GetFeature", func(ctx context.Context, c pb.RouteGuideClient, opts ...grpc.CallOption) outcome {
		_, err := c.GetFeature(ctx, &pb.Point{Latitude: 1}, opts...)
		if err != nil {
			return end(err, 0)
		}
		return end(nil, 1)
	}},
	{"server-stream", "/routeguide.RouteGuide/ListFeatures", func(ctx context.Context, c pb.RouteGuideClient, opts ...grpc.CallOption) outcome {
		stream, err := c.ListFeatures(ctx, &pb.Rectangle{}, opts...)
		if err != nil {
			return end(err, 0)
		}
		n := 0
		for {
			if _, err := stream.Recv(); err != nil {
				if errors.Is(err, io.EOF) {
					return end(nil, n)
				}
				return end(err, n)
			}
			n++
		}
	}},
	{"client-stream", "/routeguide.RouteGuide/RecordRoute", func(ctx context.Context, c pb.RouteGuideClient, opts ...grpc.CallOption) outcome {
		stream, err := c.RecordRoute(ctx, opts...)
		if err != nil {
			return end(err, 0)
		}
		for i := range pointsPerRoute {
			// A send fails only when the call has ended; CloseAndRecv
			// tells how.
			if stream.Send(&pb.Point{Latitude: int32(i)}) != nil {
				break
			}
		}
		if _, err := stream.CloseAndRecv(); err != nil {
			return end(err, 0)
		}
		return end(nil, 1)
	}},
	{"bidi", "/routeguide.RouteGuide/RouteChat", func(ctx context.Context, c pb.RouteGuideClient, opts ...grpc.CallOption) outcome {
		stream, err := c.RouteChat(ctx, opts...)
		if err != nil {
			return end(err, 0)
		}
		n := 0
		for i := range notesPerChat {
			if stream.Send(&pb.RouteNote{Message: fmt.Sprint(i)}) != nil {
				break
			}
			if _, err := stream.Recv(); err != nil {
				return end(err, n)
			}
			n++
		}
		if err := stream.CloseSend(); err != nil {
			return end(err, n)
		}
		for {
			if _, err := stream.Recv(); err != nil {
				if errors.Is(err, io.EOF) {
					return end(nil, n)
				}
				return end(err, n)
			}
			n++
		}
	}},
}

// testContext bounds a test's calls.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stubserver.DefaultTimeout)
	t.Cleanup(cancel)
	return ctx
}

// a6Retry is a service config for grpc-go's built-in retry of every
// route guide method on UNAVAILABLE.
func a6Retry(maxAttempts int) grpc.DialOption {
	return grpc.WithDefaultServiceConfig(fmt.Sprintf(`{"methodConfig": [{
		"name": [{"service": "routeguide.RouteGuide"}],
		"retryPolicy": {"maxAttempts": %d, "initialBackoff": "0.001s", "maxBackoff": "0.001s",
			"backoffMultiplier": 1, "retryableStatusCodes": ["UNAVAILABLE"]}}]}`, maxAttempts))
}
