package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"

	"google.golang.org/protobuf/proto"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/examples/routeguide/server"
)

// errWrongData marks a call that ended OK with responses other than those a
// fault-free route guide server sends.
var errWrongData = errors.New("wrong data")

// kind is one RPC kind, driven through one route guide method.
type kind struct {
	name   string
	method string
	// call makes call number n of the run (numbers are unique across the
	// whole run) and checks what came back against w.
	call func(ctx context.Context, c pb.RouteGuideClient, w *world, n uint64) error
}

// kinds lists the RPC kinds in their default order.
var kinds = []kind{
	{"unary", "/routeguide.RouteGuide/GetFeature", callUnary},
	{"server-stream", "/routeguide.RouteGuide/ListFeatures", callServerStream},
	{"client-stream", "/routeguide.RouteGuide/RecordRoute", callClientStream},
	{"bidi", "/routeguide.RouteGuide/RouteChat", callBidi},
}

// kindAliases maps the other names --kinds accepts to a kind's name.
var kindAliases = map[string]string{
	"server-streaming": "server-stream", "client-streaming": "client-stream",
	"bidi-stream": "bidi", "bidi-streaming": "bidi",
	"getfeature": "unary", "listfeatures": "server-stream", "recordroute": "client-stream", "routechat": "bidi",
}

// world is what the calls expect of the server: the route guide's embedded
// database, which routeguide-server and the embedded server both serve. A
// run's nonce keeps its chat notes apart from those of earlier runs against
// the same server.
type world struct {
	features []*pb.Feature
	named    map[[2]int32]string // name of the first feature at each location
	all      *pb.Rectangle       // covers every feature
	nonce    uint64
}

func newWorld(nonce uint64) *world {
	w := &world{features: server.New().Features(), named: map[[2]int32]string{}, nonce: nonce}
	lo := &pb.Point{Latitude: math.MaxInt32, Longitude: math.MaxInt32}
	hi := &pb.Point{Latitude: math.MinInt32, Longitude: math.MinInt32}
	for _, f := range w.features {
		l := f.GetLocation()
		if _, ok := w.named[key(l)]; !ok {
			w.named[key(l)] = f.GetName()
		}
		lo.Latitude, lo.Longitude = min(lo.Latitude, l.Latitude), min(lo.Longitude, l.Longitude)
		hi.Latitude, hi.Longitude = max(hi.Latitude, l.Latitude), max(hi.Longitude, l.Longitude)
	}
	w.all = &pb.Rectangle{Lo: lo, Hi: hi}
	return w
}

func key(p *pb.Point) [2]int32 { return [2]int32{p.GetLatitude(), p.GetLongitude()} }

// feature returns the location of feature n, round the database.
func (w *world) feature(n uint64) *pb.Point {
	return w.features[n%uint64(len(w.features))].GetLocation()
}

// callUnary asks for the feature at a known location.
func callUnary(ctx context.Context, c pb.RouteGuideClient, w *world, n uint64) error {
	p := w.feature(n)
	f, err := c.GetFeature(ctx, p)
	if err != nil {
		return err
	}
	if !proto.Equal(f.GetLocation(), p) || f.GetName() != w.named[key(p)] {
		return fmt.Errorf("%w: GetFeature(%v) = %q at %v, want %q", errWrongData, key(p), f.GetName(), key(f.GetLocation()), w.named[key(p)])
	}
	return nil
}

// callServerStream lists every feature: all 25 of the database, in order,
// each once.
func callServerStream(ctx context.Context, c pb.RouteGuideClient, w *world, _ uint64) error {
	s, err := c.ListFeatures(ctx, w.all)
	if err != nil {
		return err
	}
	var got []*pb.Feature
	for {
		f, err := s.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		got = append(got, f)
	}
	if len(got) != len(w.features) {
		return fmt.Errorf("%w: ListFeatures sent %d features, want %d", errWrongData, len(got), len(w.features))
	}
	for i, f := range got {
		if !proto.Equal(f, w.features[i]) {
			return fmt.Errorf("%w: ListFeatures feature %d = %q, want %q", errWrongData, i, f.GetName(), w.features[i].GetName())
		}
	}
	return nil
}

// routePoints is the number of points a RecordRoute call sends: three
// features and one place with none.
const routePoints = 4

// callClientStream records a route past three features and one empty place;
// the summary must count each point once.
func callClientStream(ctx context.Context, c pb.RouteGuideClient, w *world, n uint64) error {
	s, err := c.RecordRoute(ctx)
	if err != nil {
		return err
	}
	pts := []*pb.Point{w.feature(n), w.feature(n + 1), w.feature(n + 2), {Latitude: 0, Longitude: 0}}
	wantFeatures := int32(0)
	for _, p := range pts {
		if w.named[key(p)] != "" {
			wantFeatures++
		}
		if err := s.Send(p); err != nil {
			break // the status comes from CloseAndRecv
		}
	}
	sum, err := s.CloseAndRecv()
	if err != nil {
		return err
	}
	if sum.GetPointCount() != routePoints || sum.GetFeatureCount() != wantFeatures {
		return fmt.Errorf("%w: RecordRoute counted %d points and %d features, want %d and %d",
			errWrongData, sum.GetPointCount(), sum.GetFeatureCount(), routePoints, wantFeatures)
	}
	return nil
}

// chatNotes is the number of notes a RouteChat call sends, all at a place
// of its own: the server answers the k-th with the k-1 before it, so the
// call must receive notes 1, 1, 2.
const chatNotes = 3

// callBidi chats at a place no other call uses.
func callBidi(ctx context.Context, c pb.RouteGuideClient, w *world, n uint64) error {
	s, err := c.RouteChat(ctx)
	if err != nil {
		return err
	}
	loc := w.place(n)
	msg := func(i int) string { return fmt.Sprintf("%016x/%d/%d", w.nonce, n, i) }
	for i := 1; i <= chatNotes; i++ {
		if err := s.Send(&pb.RouteNote{Location: loc, Message: msg(i)}); err != nil {
			break // the status comes from Recv
		}
	}
	if err := s.CloseSend(); err != nil {
		return err
	}
	var got []string
	for {
		note, err := s.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		got = append(got, note.GetMessage())
	}
	want := []string{msg(1), msg(1), msg(2)}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		return fmt.Errorf("%w: RouteChat answered %q, want %q", errWrongData, got, want)
	}
	return nil
}

// place returns a location for chat call n, spread over the globe by a hash
// of the run's nonce and n, so that calls and runs do not share places.
func (w *world) place(n uint64) *pb.Point {
	h1, h2 := mix(w.nonce^n), mix(w.nonce^n^0x9e3779b97f4a7c15)
	return &pb.Point{
		Latitude:  int32(h1%1_800_000_001) - 900_000_000,
		Longitude: int32(h2%3_600_000_001) - 1_800_000_000,
	}
}

// mix is splitmix64's finaliser.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ (x >> 31)
}
