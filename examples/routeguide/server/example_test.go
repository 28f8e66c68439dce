package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/examples/routeguide/server"
)

// serve runs s on an in-memory listener and returns a client for it and a
// function that shuts both down.
func serve(s *server.Server) (pb.RouteGuideClient, func()) {
	lis := bufconn.Listen(1 << 20)
	gs := grpc.NewServer()
	s.Register(gs)
	go gs.Serve(lis)

	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatal(err)
	}
	return pb.NewRouteGuideClient(conn), func() {
		conn.Close()
		gs.Stop()
	}
}

func Example() {
	client, stop := serve(server.New())
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	for _, p := range []*pb.Point{
		{Latitude: 101203450, Longitude: -398765430},
		{Latitude: 101203451, Longitude: -398765430},
	} {
		f, err := client.GetFeature(ctx, p)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("GetFeature(%d, %d) = %q\n", p.Latitude, p.Longitude, f.GetName())
	}

	// The corners may come in either order.
	stream, err := client.ListFeatures(ctx, &pb.Rectangle{
		Lo: &pb.Point{Latitude: 101150000, Longitude: -398600000},
		Hi: &pb.Point{Latitude: 101000000, Longitude: -398700000},
	})
	if err != nil {
		log.Fatal(err)
	}
	for {
		f, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("ListFeatures: %q\n", f.GetName())
	}
	// Output:
	// GetFeature(101203450, -398765430) = "Harbour Lighthouse"
	// GetFeature(101203451, -398765430) = ""
	// ListFeatures: "Old Town Clock Tower"
	// ListFeatures: "Chapel of the Tides"
}

func ExampleWithFeatures() {
	client, stop := serve(server.New(server.WithFeatures([]*pb.Feature{
		{Name: "Start", Location: &pb.Point{Latitude: 0, Longitude: 0}},
		{Name: "One degree east", Location: &pb.Point{Latitude: 0, Longitude: 10000000}},
	})))
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	stream, err := client.RecordRoute(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range []*pb.Point{
		{Latitude: 0, Longitude: 0},
		{Latitude: 0, Longitude: 5000000},
		{Latitude: 0, Longitude: 10000000},
	} {
		if err := stream.Send(p); err != nil {
			break // CloseAndRecv reports why
		}
	}
	sum, err := stream.CloseAndRecv()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d points, %d features, %d m\n", sum.PointCount, sum.FeatureCount, sum.Distance)
	// Output:
	// 3 points, 2 features, 111195 m
}
