package soak

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/examples/routeguide/server"
)

// The requests of the soak come from fixed pools, each with its answer
// worked out before the soak by calling the route guide's handlers in
// process, with no network, no faults and no library in between: whatever
// a call through them returns must be exactly that.

// pointCase is a GetFeature request and its answer.
type pointCase struct {
	req  *pb.Point
	want *pb.Feature
}

// rectCase is a ListFeatures request and its answer, in order.
type rectCase struct {
	req  *pb.Rectangle
	want []*pb.Feature
}

// routeCase is a RecordRoute request and its answer. ElapsedTime depends
// on the clock and is checked against the call's deadline instead.
type routeCase struct {
	points []*pb.Point
	want   *pb.RouteSummary
}

// chatCase is a RouteChat request and its replies, in order, on a fresh
// note store (see service).
type chatCase struct {
	notes []*pb.RouteNote
	want  []*pb.RouteNote
}

// pools are the soak's requests; read-only once built.
type pools struct {
	points []pointCase
	rects  []rectCase
	routes []routeCase
	chats  []chatCase
}

// poolSize is how many requests of each streaming kind the soak draws from.
const poolSize = 32

// buildPools draws the requests with a generator seeded by seed and works
// out their answers. It fails if the pools would not test much: too few
// named features, rectangles with several features, or routes over them.
func buildPools(seed uint64) (*pools, error) {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	srv := server.New()
	features := srv.Features()
	if len(features) < 4 {
		return nil, fmt.Errorf("route guide database has %d features, want at least 4", len(features))
	}
	// The island's bounding box, a little larger, for points off the
	// features.
	lo, hi := bounds(features)
	pad := int32(20000)
	randomPoint := func() *pb.Point {
		return &pb.Point{
			Latitude:  lo.Latitude - pad + rng.Int32N(hi.Latitude-lo.Latitude+2*pad+1),
			Longitude: lo.Longitude - pad + rng.Int32N(hi.Longitude-lo.Longitude+2*pad+1),
		}
	}
	somePoint := func() *pb.Point {
		if rng.IntN(2) == 0 {
			return proto.Clone(features[rng.IntN(len(features))].Location).(*pb.Point)
		}
		return randomPoint()
	}

	var p pools
	ctx := context.Background()
	for _, f := range features {
		p.points = append(p.points, pointCase{req: proto.Clone(f.Location).(*pb.Point)})
	}
	for range len(features) {
		p.points = append(p.points, pointCase{req: randomPoint()})
	}
	for i := range p.points {
		want, err := srv.GetFeature(ctx, p.points[i].req)
		if err != nil {
			return nil, fmt.Errorf("GetFeature(%v) in process = %v", p.points[i].req, err)
		}
		p.points[i].want = want
	}

	for range poolSize {
		a := features[rng.IntN(len(features))].Location
		b := features[rng.IntN(len(features))].Location
		d := rng.Int32N(3000)
		r := &pb.Rectangle{
			Lo: &pb.Point{Latitude: min(a.Latitude, b.Latitude) - d, Longitude: min(a.Longitude, b.Longitude) - d},
			Hi: &pb.Point{Latitude: max(a.Latitude, b.Latitude) + d, Longitude: max(a.Longitude, b.Longitude) + d},
		}
		if rng.IntN(2) == 0 { // the server takes the corners in either order
			r.Lo, r.Hi = r.Hi, r.Lo
		}
		s := &listStream{}
		if err := srv.ListFeatures(r, s); err != nil {
			return nil, fmt.Errorf("ListFeatures(%v) in process = %v", r, err)
		}
		p.rects = append(p.rects, rectCase{req: r, want: s.sent})
	}

	for range poolSize {
		var points []*pb.Point
		for range 1 + rng.IntN(12) {
			points = append(points, somePoint())
		}
		s := &routeStream{in: points}
		if err := srv.RecordRoute(s); err != nil {
			return nil, fmt.Errorf("RecordRoute(%d points) in process = %v", len(points), err)
		}
		p.routes = append(p.routes, routeCase{points: points, want: s.sum})
	}

	for i := range poolSize {
		// A few locations, so that later notes meet earlier ones.
		locs := make([]*pb.Point, 1+rng.IntN(3))
		for j := range locs {
			locs[j] = somePoint()
		}
		var notes []*pb.RouteNote
		for j := range 2 + rng.IntN(7) {
			notes = append(notes, &pb.RouteNote{Location: locs[rng.IntN(len(locs))], Message: fmt.Sprintf("chat %d note %d", i, j)})
		}
		s := &chatStream{in: notes}
		if err := server.New(server.WithFeatures(nil)).RouteChat(s); err != nil {
			return nil, fmt.Errorf("RouteChat(%d notes) in process = %v", len(notes), err)
		}
		p.chats = append(p.chats, chatCase{notes: notes, want: s.sent})
	}
	return &p, p.check()
}

// check makes sure the pools test something: named features found, long
// feature lists, routes over features, chats with replies.
func (p *pools) check() error {
	named, longLists, featureRoutes, replies := 0, 0, 0, 0
	for _, c := range p.points {
		if c.want.GetName() != "" {
			named++
		}
	}
	for _, c := range p.rects {
		if len(c.want) >= 3 {
			longLists++
		}
	}
	for _, c := range p.routes {
		if c.want.GetFeatureCount() > 0 && c.want.GetDistance() > 0 {
			featureRoutes++
		}
	}
	for _, c := range p.chats {
		replies += len(c.want)
	}
	if named == 0 || longLists < 4 || featureRoutes < 4 || replies < poolSize {
		return fmt.Errorf("request pools too weak: %d named points, %d rectangles with 3+ features, %d routes over features, %d chat replies",
			named, longLists, featureRoutes, replies)
	}
	return nil
}

// bounds returns the corners of the smallest rectangle holding features.
func bounds(features []*pb.Feature) (lo, hi *pb.Point) {
	lo = proto.Clone(features[0].Location).(*pb.Point)
	hi = proto.Clone(features[0].Location).(*pb.Point)
	for _, f := range features[1:] {
		l := f.Location
		lo.Latitude, lo.Longitude = min(lo.Latitude, l.Latitude), min(lo.Longitude, l.Longitude)
		hi.Latitude, hi.Longitude = max(hi.Latitude, l.Latitude), max(hi.Longitude, l.Longitude)
	}
	return lo, hi
}

// inProcess is the part of grpc.ServerStream the in-process runs need: no
// metadata, a background context.
type inProcess struct{}

func (inProcess) SetHeader(metadata.MD) error  { return nil }
func (inProcess) SendHeader(metadata.MD) error { return nil }
func (inProcess) SetTrailer(metadata.MD)       {}
func (inProcess) Context() context.Context     { return context.Background() }
func (inProcess) SendMsg(any) error            { return fmt.Errorf("soak: SendMsg not supported in process") }
func (inProcess) RecvMsg(any) error            { return fmt.Errorf("soak: RecvMsg not supported in process") }

// listStream collects what ListFeatures sends.
type listStream struct {
	inProcess
	sent []*pb.Feature
}

func (s *listStream) Send(f *pb.Feature) error {
	s.sent = append(s.sent, proto.Clone(f).(*pb.Feature))
	return nil
}

// routeStream feeds RecordRoute its points and keeps the summary.
type routeStream struct {
	inProcess
	in  []*pb.Point
	sum *pb.RouteSummary
}

func (s *routeStream) Recv() (*pb.Point, error) {
	if len(s.in) == 0 {
		return nil, io.EOF
	}
	p := proto.Clone(s.in[0]).(*pb.Point)
	s.in = s.in[1:]
	return p, nil
}

func (s *routeStream) SendAndClose(sum *pb.RouteSummary) error {
	s.sum = proto.Clone(sum).(*pb.RouteSummary)
	return nil
}

// chatStream feeds RouteChat its notes and collects the replies.
type chatStream struct {
	inProcess
	in   []*pb.RouteNote
	sent []*pb.RouteNote
}

func (s *chatStream) Recv() (*pb.RouteNote, error) {
	if len(s.in) == 0 {
		return nil, io.EOF
	}
	n := proto.Clone(s.in[0]).(*pb.RouteNote)
	s.in = s.in[1:]
	return n, nil
}

func (s *chatStream) Send(n *pb.RouteNote) error {
	s.sent = append(s.sent, proto.Clone(n).(*pb.RouteNote))
	return nil
}

var (
	_ grpc.ServerStreamingServer[pb.Feature]                = (*listStream)(nil)
	_ grpc.ClientStreamingServer[pb.Point, pb.RouteSummary] = (*routeStream)(nil)
	_ grpc.BidiStreamingServer[pb.RouteNote, pb.RouteNote]  = (*chatStream)(nil)
)
