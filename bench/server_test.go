package bench

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"

	"google.golang.org/grpc"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
)

// The fixed replies. They are shared by every call and never modified:
// marshalling only reads them, so the server allocates as little as grpc
// lets it and the client side dominates the measurements.
var (
	fixedFeature = &pb.Feature{Name: "bench", Location: &pb.Point{Latitude: 409146138, Longitude: -746188906}}
	fixedSummary = &pb.RouteSummary{PointCount: 1}
	fixedNote    = &pb.RouteNote{Location: &pb.Point{Latitude: 1, Longitude: 1}, Message: "bench"}
)

// fixedServer answers every route guide call with a fixed reply.
type fixedServer struct {
	pb.UnimplementedRouteGuideServer
}

func (fixedServer) GetFeature(context.Context, *pb.Point) (*pb.Feature, error) {
	return fixedFeature, nil
}

func (fixedServer) ListFeatures(_ *pb.Rectangle, s grpc.ServerStreamingServer[pb.Feature]) error {
	return s.Send(fixedFeature)
}

func (fixedServer) RecordRoute(s grpc.ClientStreamingServer[pb.Point, pb.RouteSummary]) error {
	for {
		if _, err := s.Recv(); err != nil {
			if errors.Is(err, io.EOF) {
				return s.SendAndClose(fixedSummary)
			}
			return err
		}
	}
}

func (fixedServer) RouteChat(s grpc.BidiStreamingServer[pb.RouteNote, pb.RouteNote]) error {
	for {
		if _, err := s.Recv(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if err := s.Send(fixedNote); err != nil {
			return err
		}
	}
}

// startServer serves fixedServer, with opts, on a fresh 127.0.0.1 port and
// returns its address. The server stops, and its goroutine is waited for, at cleanup.
func startServer(tb testing.TB, opts ...grpc.ServerOption) string {
	tb.Helper()
	return serve(tb, fixedServer{}, opts...)
}

// serve serves impl, with opts, on a fresh 127.0.0.1 port and returns its
// address. The server stops, and its goroutine is waited for, at cleanup.
func serve(tb testing.TB, impl pb.RouteGuideServer, opts ...grpc.ServerOption) string {
	tb.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("net.Listen = %v", err)
	}
	srv := grpc.NewServer(opts...)
	pb.RegisterRouteGuideServer(srv, impl)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	tb.Cleanup(func() {
		srv.Stop()
		// Serve's error is reported here, on the test goroutine.
		if err := <-served; err != nil {
			tb.Errorf("Serve = %v, want nil after Stop", err)
		}
	})
	return lis.Addr().String()
}
