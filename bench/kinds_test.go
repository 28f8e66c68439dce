package bench

import (
	"context"
	"errors"
	"fmt"
	"io"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
)

// The fixed requests, shared by every call.
var (
	reqPoint = &pb.Point{Latitude: 409146138, Longitude: -746188906}
	reqRect  = &pb.Rectangle{
		Lo: &pb.Point{Latitude: 400000000, Longitude: -750000000},
		Hi: &pb.Point{Latitude: 420000000, Longitude: -730000000},
	}
	reqNote = &pb.RouteNote{Location: reqPoint, Message: "bench"}
)

// kind is one kind of call, run to its end.
type kind struct {
	// name is the benchmark's name without "Benchmark".
	name string
	// clientStreams reports a client-streaming or bidi call.
	clientStreams bool
	// call makes one complete call and checks its result.
	call func(ctx context.Context, c pb.RouteGuideClient) error
}

var (
	unary        = kind{name: "Unary", call: callUnary}
	serverStream = kind{name: "ServerStream", call: callServerStream}
	clientStream = kind{name: "ClientStream", clientStreams: true, call: callClientStream}
	bidi         = kind{name: "Bidi", clientStreams: true, call: callBidi}

	kinds = []kind{unary, serverStream, clientStream, bidi}
)

func callUnary(ctx context.Context, c pb.RouteGuideClient) error {
	f, err := c.GetFeature(ctx, reqPoint)
	if err != nil {
		return err
	}
	if f.GetName() != fixedFeature.GetName() {
		return fmt.Errorf("GetFeature name = %q, want %q", f.GetName(), fixedFeature.GetName())
	}
	return nil
}

// callServerStream reads the one reply and then the end of the stream, as a
// caller must for the call to finish.
func callServerStream(ctx context.Context, c pb.RouteGuideClient) error {
	s, err := c.ListFeatures(ctx, reqRect)
	if err != nil {
		return err
	}
	if _, err := s.Recv(); err != nil {
		return err
	}
	return recvEOF(s.Recv)
}

func callClientStream(ctx context.Context, c pb.RouteGuideClient) error {
	s, err := c.RecordRoute(ctx)
	if err != nil {
		return err
	}
	if err := s.Send(reqPoint); err != nil {
		return err
	}
	sum, err := s.CloseAndRecv()
	if err != nil {
		return err
	}
	if sum.GetPointCount() != fixedSummary.GetPointCount() {
		return fmt.Errorf("RecordRoute point count = %d, want %d", sum.GetPointCount(), fixedSummary.GetPointCount())
	}
	return nil
}

// callBidi sends one note, receives one, half-closes and reads the end of
// the stream, as a caller must for the call to finish.
func callBidi(ctx context.Context, c pb.RouteGuideClient) error {
	s, err := c.RouteChat(ctx)
	if err != nil {
		return err
	}
	if err := s.Send(reqNote); err != nil {
		return err
	}
	if _, err := s.Recv(); err != nil {
		return err
	}
	if err := s.CloseSend(); err != nil {
		return err
	}
	return recvEOF(s.Recv)
}

// recvEOF reads once more and expects the end of the stream.
func recvEOF[T any](recv func() (*T, error)) error {
	_, err := recv()
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case err == nil:
		return errors.New("Recv() = a message, want io.EOF")
	default:
		return err
	}
}
