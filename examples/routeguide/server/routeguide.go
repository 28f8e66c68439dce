package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
)

// GetFeature returns the feature at p, or a Feature with an empty name at p
// when the database has none there.
func (s *Server) GetFeature(_ context.Context, p *pb.Point) (*pb.Feature, error) {
	if err := checkPoint("point", p); err != nil {
		return nil, err
	}
	if f, ok := s.byLocation[keyOf(p)]; ok {
		return proto.Clone(f).(*pb.Feature), nil
	}
	return &pb.Feature{Location: &pb.Point{Latitude: p.Latitude, Longitude: p.Longitude}}, nil
}

// ListFeatures streams every feature inside r, edges included, in database
// order.
func (s *Server) ListFeatures(r *pb.Rectangle, stream grpc.ServerStreamingServer[pb.Feature]) error {
	if r == nil {
		return status.Error(codes.InvalidArgument, "rectangle is required")
	}
	if err := checkPoint("rectangle.lo", r.Lo); err != nil {
		return err
	}
	if err := checkPoint("rectangle.hi", r.Hi); err != nil {
		return err
	}
	b := boundsOf(r.Lo, r.Hi)
	for _, f := range s.features {
		if !b.contains(f.Location) {
			continue
		}
		if err := stream.Send(proto.Clone(f).(*pb.Feature)); err != nil {
			return err
		}
	}
	return nil
}

// RecordRoute reads points until the client half-closes, then answers with
// a summary of the route.
func (s *Server) RecordRoute(stream grpc.ClientStreamingServer[pb.Point, pb.RouteSummary]) error {
	start := s.now()
	var (
		sum    pb.RouteSummary
		metres float64
		prev   *pb.Point
	)
	for i := 0; ; i++ {
		p, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			sum.Distance = wholeMetres(metres)
			sum.ElapsedTime = int32(max(s.now().Sub(start), 0) / time.Second)
			return stream.SendAndClose(&sum)
		}
		if err != nil {
			return err
		}
		if err := checkPoint(fmt.Sprintf("point[%d]", i), p); err != nil {
			return err
		}
		sum.PointCount++
		if f, ok := s.byLocation[keyOf(p)]; ok && f.Name != "" {
			sum.FeatureCount++
		}
		if prev != nil {
			metres += distanceMetres(prev, p)
		}
		prev = p
	}
}

// RouteChat answers each note with the notes stored earlier at its location,
// then stores it.
func (s *Server) RouteChat(stream grpc.BidiStreamingServer[pb.RouteNote, pb.RouteNote]) error {
	for {
		note, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := checkPoint("note.location", note.GetLocation()); err != nil {
			return err
		}
		key := keyOf(note.Location)

		s.mu.Lock()
		earlier := slices.Clone(s.notes[key])
		s.mu.Unlock()

		// Stored notes are never modified, so they can be sent without
		// holding the lock; each is copied because the receiver owns what
		// it gets.
		for _, n := range earlier {
			if err := stream.Send(proto.Clone(n).(*pb.RouteNote)); err != nil {
				return err
			}
		}

		s.mu.Lock()
		s.notes[key] = append(s.notes[key], proto.Clone(note).(*pb.RouteNote))
		s.mu.Unlock()
	}
}
