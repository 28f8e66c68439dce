package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
)

// The places the tour asks about. They match the embedded database of the
// examples/routeguide/server package; another server's answers differ but
// the tour still works.
var (
	lighthouse = &pb.Point{Latitude: 101203450, Longitude: -398765430}
	openSea    = &pb.Point{Latitude: 101300000, Longitude: -398900000}
	oldTown    = &pb.Rectangle{
		Lo: &pb.Point{Latitude: 101000000, Longitude: -398700000},
		Hi: &pb.Point{Latitude: 101200000, Longitude: -398500000},
	}
)

// tour calls each method in turn, giving each call its own timeout, and
// prints the results. The route it records is the features ListFeatures
// found followed by a point at sea, so it depends on no particular database.
func tour(ctx context.Context, client pb.RouteGuideClient, timeout time.Duration, w io.Writer) error {
	for _, p := range []*pb.Point{lighthouse, openSea} {
		f, err := getFeature(ctx, client, timeout, p)
		if err != nil {
			return fmt.Errorf("GetFeature %s: %w", coords(p), err)
		}
		if f.GetName() == "" {
			fmt.Fprintf(w, "GetFeature %s: nothing there\n", coords(p))
		} else {
			fmt.Fprintf(w, "GetFeature %s: %q\n", coords(p), f.GetName())
		}
	}

	features, err := listFeatures(ctx, client, timeout, oldTown)
	if err != nil {
		return fmt.Errorf("ListFeatures %s to %s: %w", coords(oldTown.Lo), coords(oldTown.Hi), err)
	}
	fmt.Fprintf(w, "ListFeatures %s to %s: %d features\n", coords(oldTown.Lo), coords(oldTown.Hi), len(features))
	for _, f := range features {
		fmt.Fprintf(w, "  %q at %s\n", f.GetName(), coords(f.GetLocation()))
	}

	route := []*pb.Point{}
	for _, f := range features {
		route = append(route, f.GetLocation())
	}
	route = append(route, openSea)
	sum, err := recordRoute(ctx, client, timeout, route)
	if err != nil {
		return fmt.Errorf("RecordRoute: %w", err)
	}
	// The elapsed time is left out: it is the one answer that depends on
	// how fast the machine is.
	fmt.Fprintf(w, "RecordRoute of %d points: %d points, %d features, %d metres\n",
		len(route), sum.GetPointCount(), sum.GetFeatureCount(), sum.GetDistance())

	notes := []*pb.RouteNote{
		{Location: lighthouse, Message: "the light is out"},
		{Location: openSea, Message: "whales to the north"},
		{Location: lighthouse, Message: "fixed it"},
		{Location: openSea, Message: "still here"},
		{Location: lighthouse, Message: "thanks"},
	}
	fmt.Fprintf(w, "RouteChat: sending %d notes\n", len(notes))
	if err := routeChat(ctx, client, timeout, notes, w); err != nil {
		return fmt.Errorf("RouteChat: %w", err)
	}
	return nil
}

func getFeature(ctx context.Context, client pb.RouteGuideClient, timeout time.Duration, p *pb.Point) (*pb.Feature, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return client.GetFeature(ctx, p)
}

func listFeatures(ctx context.Context, client pb.RouteGuideClient, timeout time.Duration, r *pb.Rectangle) ([]*pb.Feature, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stream, err := client.ListFeatures(ctx, r)
	if err != nil {
		return nil, err
	}
	var features []*pb.Feature
	for {
		f, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return features, nil
		}
		if err != nil {
			return nil, err
		}
		features = append(features, f)
	}
}

func recordRoute(ctx context.Context, client pb.RouteGuideClient, timeout time.Duration, route []*pb.Point) (*pb.RouteSummary, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stream, err := client.RecordRoute(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range route {
		if err := stream.Send(p); err != nil {
			break // the call ended early; CloseAndRecv returns its status
		}
	}
	return stream.CloseAndRecv()
}

// routeChat sends the notes while a second goroutine prints the replies as
// they come. Only that goroutine writes to w until it is done, and the
// server answers the notes in order, so the output is deterministic.
func routeChat(ctx context.Context, client pb.RouteGuideClient, timeout time.Duration, notes []*pb.RouteNote, w io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stream, err := client.RouteChat(ctx)
	if err != nil {
		return err
	}
	received := make(chan error, 1)
	go func() {
		for {
			n, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				received <- nil
				return
			}
			if err != nil {
				received <- err
				return
			}
			fmt.Fprintf(w, "  earlier note at %s: %q\n", coords(n.GetLocation()), n.GetMessage())
		}
	}()
	for _, n := range notes {
		if err := stream.Send(n); err != nil {
			break // the receiving goroutine gets the call's status
		}
	}
	// CloseSend only fails once the stream has already failed, which the
	// receiving goroutine reports.
	_ = stream.CloseSend()
	return <-received
}

// coords formats a point in degrees.
func coords(p *pb.Point) string {
	return fmt.Sprintf("(%.7f, %.7f)", float64(p.GetLatitude())/1e7, float64(p.GetLongitude())/1e7)
}
