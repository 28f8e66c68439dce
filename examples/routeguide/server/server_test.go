package server

import (
	"context"
	"errors"
	"io"
	"math"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/descriptorpb"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
)

// testTimeout bounds each test's calls; it is only reached when a test is
// broken. (internal/stubserver has the shared constants, but it imports this
// package.)
const testTimeout = 10 * time.Second

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// startServer serves s over bufconn and returns a client for it. Everything
// is torn down in t.Cleanup.
func startServer(t *testing.T, s *Server) pb.RouteGuideClient {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	gs := grpc.NewServer()
	s.Register(gs)
	served := make(chan error, 1)
	go func() { served <- gs.Serve(lis) }()
	t.Cleanup(func() {
		gs.Stop()
		// ErrServerStopped only means Stop came before Serve got going.
		if err := <-served; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			t.Errorf("Serve() = %v, want nil after Stop", err)
		}
	})

	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("grpc.NewClient() = %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return pb.NewRouteGuideClient(conn)
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func pt(lat, lng int32) *pb.Point { return &pb.Point{Latitude: lat, Longitude: lng} }

func feature(name string, lat, lng int32) *pb.Feature {
	return &pb.Feature{Name: name, Location: pt(lat, lng)}
}

// smallDB is a database whose answers are easy to work out by hand.
func smallDB() []*pb.Feature {
	return []*pb.Feature{
		feature("origin", 0, 0),
		feature("east", 0, 10000000),
		feature("north-east", 10000000, 10000000),
		feature("", 20000000, 0), // an unnamed entry is not a hit
		feature("south-west", -10000000, -10000000),
		feature("origin again", 0, 0), // shadowed by "origin" for lookups
	}
}

// wantInvalid checks that err is InvalidArgument and names each of mention.
func wantInvalid(t *testing.T, call string, err error, mention ...string) {
	t.Helper()
	st, _ := status.FromError(err)
	if st.Code() != codes.InvalidArgument {
		t.Fatalf("%s error = %v, want code %v", call, err, codes.InvalidArgument)
	}
	for _, m := range mention {
		if !strings.Contains(st.Message(), m) {
			t.Errorf("%s error message = %q, want it to mention %q", call, st.Message(), m)
		}
	}
}

func TestEmbeddedFeatures(t *testing.T) {
	fs, err := parseFeatures(featuresJSON)
	if err != nil {
		t.Fatalf("parseFeatures(features.json) = %v", err)
	}
	if got, want := len(fs), 25; got != want {
		t.Errorf("len(parseFeatures(features.json)) = %d, want %d", got, want)
	}
	seen := make(map[point]string)
	for _, f := range fs {
		if f.Name == "" {
			t.Errorf("feature at %v has an empty name, want every embedded feature named", f.Location)
		}
		if prev, dup := seen[keyOf(f.Location)]; dup {
			t.Errorf("features %q and %q share location %v, want unique locations", prev, f.Name, f.Location)
		}
		seen[keyOf(f.Location)] = f.Name
	}
}

func TestParseFeaturesErrors(t *testing.T) {
	for _, in := range []string{
		`{`,
		`[{"name": "x", "location": {"latitude": 900000001, "longitude": 0}}]`,
		`[{"name": "x", "location": {"latitude": 0, "longitude": -1800000001}}]`,
	} {
		if _, err := parseFeatures([]byte(in)); err == nil {
			t.Errorf("parseFeatures(%s) = nil error, want an error", in)
		}
	}
}

// TestIdempotencyLevels checks the option that later code reads from the
// registered descriptor to decide whether a method may be retried.
func TestIdempotencyLevels(t *testing.T) {
	d, err := protoregistry.GlobalFiles.FindDescriptorByName("routeguide.RouteGuide")
	if err != nil {
		t.Fatalf("FindDescriptorByName(routeguide.RouteGuide) = %v", err)
	}
	methods := d.(protoreflect.ServiceDescriptor).Methods()
	for _, tc := range []struct {
		method string
		want   descriptorpb.MethodOptions_IdempotencyLevel
	}{
		{"GetFeature", descriptorpb.MethodOptions_NO_SIDE_EFFECTS},
		{"ListFeatures", descriptorpb.MethodOptions_NO_SIDE_EFFECTS},
		{"RecordRoute", descriptorpb.MethodOptions_IDEMPOTENCY_UNKNOWN},
		{"RouteChat", descriptorpb.MethodOptions_IDEMPOTENCY_UNKNOWN},
	} {
		m := methods.ByName(protoreflect.Name(tc.method))
		if m == nil {
			t.Errorf("method %s not found in the registered descriptor", tc.method)
			continue
		}
		opts, _ := m.Options().(*descriptorpb.MethodOptions)
		if got := opts.GetIdempotencyLevel(); got != tc.want {
			t.Errorf("%s idempotency_level = %v, want %v", tc.method, got, tc.want)
		}
	}
}

func TestFeatures(t *testing.T) {
	db := smallDB()
	s := New(WithFeatures(db))
	got := s.Features()
	if len(got) != len(db) {
		t.Fatalf("Features() = %d features, want %d", len(got), len(db))
	}
	for i := range db {
		if !proto.Equal(got[i], db[i]) {
			t.Errorf("Features()[%d] = %v, want %v", i, got[i], db[i])
		}
	}
	got[0].Name = "changed"
	if again := s.Features(); again[0].GetName() != db[0].GetName() {
		t.Errorf("after changing a returned feature, Features()[0].Name = %q, want %q: Features must return copies", again[0].GetName(), db[0].GetName())
	}
}

func TestGetFeature(t *testing.T) {
	client := startServer(t, New(WithFeatures(smallDB())))
	tests := []struct {
		name string
		in   *pb.Point
		want *pb.Feature
	}{
		{"named feature", pt(0, 10000000), feature("east", 0, 10000000)},
		{"first of two at one location", pt(0, 0), feature("origin", 0, 0)},
		{"unnamed entry", pt(20000000, 0), feature("", 20000000, 0)},
		{"nothing there", pt(1, 2), feature("", 1, 2)},
		{"north-east edge of the range", pt(900000000, 1800000000), feature("", 900000000, 1800000000)},
		{"south-west edge of the range", pt(-900000000, -1800000000), feature("", -900000000, -1800000000)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := client.GetFeature(testContext(t), tc.in)
			if err != nil {
				t.Fatalf("GetFeature(%v) = %v", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("GetFeature(%v) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestGetFeatureInvalid(t *testing.T) {
	client := startServer(t, New())
	tests := []struct {
		name    string
		in      *pb.Point
		mention []string
	}{
		{"latitude too far north", pt(900000001, 0), []string{"point.latitude", "900000001"}},
		{"latitude too far south", pt(-900000001, 0), []string{"point.latitude", "-900000001"}},
		{"longitude too far east", pt(0, 1800000001), []string{"point.longitude", "1800000001"}},
		{"longitude too far west", pt(0, -1800000001), []string{"point.longitude", "-1800000001"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := client.GetFeature(testContext(t), tc.in)
			wantInvalid(t, "GetFeature("+tc.in.String()+")", err, tc.mention...)
		})
	}

	// A nil request cannot cross the wire (it arrives as an empty Point), so
	// call the method directly.
	_, err := New().GetFeature(context.Background(), nil)
	wantInvalid(t, "GetFeature(nil)", err, "point")
}

func TestGetFeatureReturnsCopy(t *testing.T) {
	s := New(WithFeatures(smallDB()))
	f, err := s.GetFeature(context.Background(), pt(0, 0))
	if err != nil {
		t.Fatalf("GetFeature(0, 0) = %v", err)
	}
	f.Name = "changed by caller"
	if f, _ := s.GetFeature(context.Background(), pt(0, 0)); f.GetName() != "origin" {
		t.Errorf("GetFeature(0, 0) after the caller changed an earlier result = %q, want %q", f.GetName(), "origin")
	}
}

func TestWithFeaturesCopies(t *testing.T) {
	db := smallDB()
	s := New(WithFeatures(db), WithFeatures(append(db, nil, &pb.Feature{Name: "nowhere"})))
	db[0].Name = "changed by caller"
	if got := len(s.features); got != len(db) {
		t.Errorf("New(WithFeatures(db + nil + no location)) kept %d features, want %d", got, len(db))
	}
	if f, _ := s.GetFeature(context.Background(), pt(0, 0)); f.GetName() != "origin" {
		t.Errorf("GetFeature(0, 0) after the caller changed the database slice = %q, want %q", f.GetName(), "origin")
	}
}

func listFeatures(ctx context.Context, client pb.RouteGuideClient, r *pb.Rectangle) ([]*pb.Feature, error) {
	stream, err := client.ListFeatures(ctx, r)
	if err != nil {
		return nil, err
	}
	var got []*pb.Feature
	for {
		f, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		got = append(got, f)
	}
}

func TestListFeatures(t *testing.T) {
	client := startServer(t, New(WithFeatures(smallDB())))
	tests := []struct {
		name string
		in   *pb.Rectangle
		want []*pb.Feature
	}{
		{
			name: "everything, in database order",
			in:   &pb.Rectangle{Lo: pt(-900000000, -1800000000), Hi: pt(900000000, 1800000000)},
			want: smallDB(),
		},
		{
			name: "edges are inside",
			in:   &pb.Rectangle{Lo: pt(0, 0), Hi: pt(10000000, 10000000)},
			want: []*pb.Feature{feature("origin", 0, 0), feature("east", 0, 10000000), feature("north-east", 10000000, 10000000), feature("origin again", 0, 0)},
		},
		{
			name: "corners swapped",
			in:   &pb.Rectangle{Lo: pt(10000000, 10000000), Hi: pt(0, 0)},
			want: []*pb.Feature{feature("origin", 0, 0), feature("east", 0, 10000000), feature("north-east", 10000000, 10000000), feature("origin again", 0, 0)},
		},
		{
			name: "the other diagonal",
			in:   &pb.Rectangle{Lo: pt(10000000, 0), Hi: pt(0, 10000000)},
			want: []*pb.Feature{feature("origin", 0, 0), feature("east", 0, 10000000), feature("north-east", 10000000, 10000000), feature("origin again", 0, 0)},
		},
		{
			name: "single point",
			in:   &pb.Rectangle{Lo: pt(-10000000, -10000000), Hi: pt(-10000000, -10000000)},
			want: []*pb.Feature{feature("south-west", -10000000, -10000000)},
		},
		{
			name: "empty area",
			in:   &pb.Rectangle{Lo: pt(1, 1), Hi: pt(2, 2)},
			want: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := listFeatures(testContext(t), client, tc.in)
			if err != nil {
				t.Fatalf("ListFeatures(%v) = %v", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("ListFeatures(%v) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestListFeaturesEmbedded(t *testing.T) {
	client := startServer(t, New())
	everywhere := &pb.Rectangle{Lo: pt(-900000000, -1800000000), Hi: pt(900000000, 1800000000)}
	got, err := listFeatures(testContext(t), client, everywhere)
	if err != nil {
		t.Fatalf("ListFeatures(%v) = %v", everywhere, err)
	}
	if diff := cmp.Diff(embeddedFeatures(), got, protocmp.Transform()); diff != "" {
		t.Errorf("ListFeatures(%v) mismatch (-want +got):\n%s", everywhere, diff)
	}
}

func TestListFeaturesInvalid(t *testing.T) {
	client := startServer(t, New())
	tests := []struct {
		name    string
		in      *pb.Rectangle
		mention []string
	}{
		{"missing lo", &pb.Rectangle{Hi: pt(0, 0)}, []string{"rectangle.lo"}},
		{"missing hi", &pb.Rectangle{Lo: pt(0, 0)}, []string{"rectangle.hi"}},
		{"missing both", &pb.Rectangle{}, []string{"rectangle.lo"}},
		{"lo latitude out of range", &pb.Rectangle{Lo: pt(-900000001, 0), Hi: pt(0, 0)}, []string{"rectangle.lo.latitude", "-900000001"}},
		{"hi longitude out of range", &pb.Rectangle{Lo: pt(0, 0), Hi: pt(0, 1800000001)}, []string{"rectangle.hi.longitude", "1800000001"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := listFeatures(testContext(t), client, tc.in)
			wantInvalid(t, "ListFeatures("+tc.in.String()+")", err, tc.mention...)
			if len(got) != 0 {
				t.Errorf("ListFeatures(%v) sent %d features before failing, want 0", tc.in, len(got))
			}
		})
	}

	// A nil request cannot cross the wire, so call the method directly; it
	// must fail before touching the stream.
	err := New().ListFeatures(nil, nil)
	wantInvalid(t, "ListFeatures(nil)", err, "rectangle")
}

// steppingClock returns a clock that starts at an arbitrary instant and moves
// on by step at every reading.
func steppingClock(step time.Duration) func() time.Time {
	var mu sync.Mutex
	now := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t := now
		now = now.Add(step)
		return t
	}
}

func recordRoute(ctx context.Context, client pb.RouteGuideClient, points []*pb.Point) (*pb.RouteSummary, error) {
	stream, err := client.RecordRoute(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range points {
		if err := stream.Send(p); err != nil {
			// The server ended the call early; CloseAndRecv has its status.
			break
		}
	}
	return stream.CloseAndRecv()
}

func TestRecordRoute(t *testing.T) {
	// One degree of arc on a sphere of radius 6371 km.
	const degree = 6371000 * math.Pi / 180 // ≈ 111194.93 m
	tests := []struct {
		name   string
		step   time.Duration
		points []*pb.Point
		want   *pb.RouteSummary
	}{
		{
			name: "no points",
			want: &pb.RouteSummary{},
		},
		{
			name:   "one point",
			points: []*pb.Point{pt(0, 0)},
			want:   &pb.RouteSummary{PointCount: 1, FeatureCount: 1},
		},
		{
			name:   "east then north",
			step:   2500 * time.Millisecond,
			points: []*pb.Point{pt(0, 0), pt(0, 10000000), pt(10000000, 10000000)},
			want:   &pb.RouteSummary{PointCount: 3, FeatureCount: 3, Distance: int32(math.Round(2 * degree)), ElapsedTime: 2},
		},
		{
			name:   "unnamed entries and empty places are not hits",
			step:   time.Second,
			points: []*pb.Point{pt(20000000, 0), pt(10000000, 0), pt(0, 0)},
			want:   &pb.RouteSummary{PointCount: 3, FeatureCount: 1, Distance: int32(math.Round(2 * degree)), ElapsedTime: 1},
		},
		{
			name:   "revisits count every time",
			points: []*pb.Point{pt(0, 0), pt(0, 0), pt(0, 0)},
			want:   &pb.RouteSummary{PointCount: 3, FeatureCount: 3},
		},
		{
			name:   "half way round the equator",
			points: []*pb.Point{pt(0, -900000000), pt(0, 900000000)},
			want:   &pb.RouteSummary{PointCount: 2, Distance: int32(math.Round(180 * degree))},
		},
		{
			name:   "saturates instead of wrapping",
			points: repeat(1000, pt(900000000, 0), pt(-900000000, 0)),
			want:   &pb.RouteSummary{PointCount: 2000, Distance: math.MaxInt32},
		},
		{
			name:   "a clock that goes backwards gives zero",
			step:   -3 * time.Second,
			points: []*pb.Point{pt(1, 1)},
			want:   &pb.RouteSummary{PointCount: 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client := startServer(t, New(WithFeatures(smallDB()), withClock(steppingClock(tc.step))))
			got, err := recordRoute(testContext(t), client, tc.points)
			if err != nil {
				t.Fatalf("RecordRoute(%v) = %v", tc.points, err)
			}
			if diff := cmp.Diff(tc.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("RecordRoute(%v) mismatch (-want +got):\n%s", tc.points, diff)
			}
		})
	}
}

func repeat(n int, points ...*pb.Point) []*pb.Point {
	var out []*pb.Point
	for range n {
		out = append(out, points...)
	}
	return out
}

func TestRecordRouteInvalid(t *testing.T) {
	client := startServer(t, New())
	tests := []struct {
		name    string
		points  []*pb.Point
		mention []string
	}{
		{"first point", []*pb.Point{pt(900000001, 0)}, []string{"point[0].latitude", "900000001"}},
		{"third point", []*pb.Point{pt(0, 0), pt(0, 0), pt(0, -1800000001), pt(0, 0)}, []string{"point[2].longitude", "-1800000001"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := recordRoute(testContext(t), client, tc.points)
			wantInvalid(t, "RecordRoute", err, tc.mention...)
		})
	}
}

func note(lat, lng int32, msg string) *pb.RouteNote {
	return &pb.RouteNote{Location: pt(lat, lng), Message: msg}
}

// chat sends each note in turn and, before sending the next, reads as many
// replies as the server must send for it: the notes sent earlier at the same
// location, counting those in stored. It then half-closes and checks that
// nothing else arrives, so no test needs to guess when the server is done.
func chat(ctx context.Context, client pb.RouteGuideClient, stored []*pb.RouteNote, notes []*pb.RouteNote) ([][]*pb.RouteNote, error) {
	stream, err := client.RouteChat(ctx)
	if err != nil {
		return nil, err
	}
	all := append([]*pb.RouteNote(nil), stored...)
	var got [][]*pb.RouteNote
	for _, n := range notes {
		if err := stream.Send(n); err != nil {
			_, err := stream.Recv()
			return got, err
		}
		var replies []*pb.RouteNote
		for _, earlier := range all {
			if proto.Equal(earlier.Location, n.Location) {
				r, err := stream.Recv()
				if err != nil {
					return got, err
				}
				replies = append(replies, r)
			}
		}
		got = append(got, replies)
		all = append(all, n)
	}
	if err := stream.CloseSend(); err != nil {
		return got, err
	}
	if r, err := stream.Recv(); !errors.Is(err, io.EOF) {
		return got, errors.Join(errors.New("extra reply or error after the last note"), err, errors.New(r.String()))
	}
	return got, nil
}

func TestRouteChat(t *testing.T) {
	a, b := pt(1, 1), pt(2, 2)
	tests := []struct {
		name  string
		notes []*pb.RouteNote
		want  [][]*pb.RouteNote
	}{
		{
			name: "no notes",
		},
		{
			name:  "first note anywhere gets nothing back",
			notes: []*pb.RouteNote{note(1, 1, "a1")},
			want:  [][]*pb.RouteNote{nil},
		},
		{
			name:  "earlier notes at the same place come back in order",
			notes: []*pb.RouteNote{note(1, 1, "a1"), note(2, 2, "b1"), note(1, 1, "a2"), note(1, 1, "a3"), note(2, 2, "b2")},
			want: [][]*pb.RouteNote{
				nil,
				nil,
				{note(1, 1, "a1")},
				{note(1, 1, "a1"), note(1, 1, "a2")},
				{note(2, 2, "b1")},
			},
		},
		{
			name:  "an empty message is still a note",
			notes: []*pb.RouteNote{{Location: a}, {Location: a}, {Location: b}},
			want:  [][]*pb.RouteNote{nil, {{Location: a}}, nil},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client := startServer(t, New())
			got, err := chat(testContext(t), client, nil, tc.notes)
			if err != nil {
				t.Fatalf("RouteChat(%v) = %v", tc.notes, err)
			}
			if diff := cmp.Diff(tc.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("RouteChat(%v) replies mismatch (-want +got):\n%s", tc.notes, diff)
			}
		})
	}
}

// TestRouteChatShared checks that notes outlive the stream that sent them
// and are seen by later streams.
func TestRouteChatShared(t *testing.T) {
	client := startServer(t, New())
	first := []*pb.RouteNote{note(5, 5, "from the first stream"), note(6, 6, "elsewhere")}
	if _, err := chat(testContext(t), client, nil, first); err != nil {
		t.Fatalf("first RouteChat(%v) = %v", first, err)
	}
	second := []*pb.RouteNote{note(5, 5, "from the second stream")}
	got, err := chat(testContext(t), client, first, second)
	if err != nil {
		t.Fatalf("second RouteChat(%v) = %v", second, err)
	}
	want := [][]*pb.RouteNote{{note(5, 5, "from the first stream")}}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("second RouteChat(%v) replies mismatch (-want +got):\n%s", second, diff)
	}
}

func TestRouteChatInvalid(t *testing.T) {
	tests := []struct {
		name    string
		notes   []*pb.RouteNote
		mention []string
	}{
		{"missing location", []*pb.RouteNote{{Message: "where?"}}, []string{"note.location"}},
		{"latitude out of range", []*pb.RouteNote{note(0, 0, "ok"), note(-900000001, 0, "bad")}, []string{"note.location.latitude", "-900000001"}},
		{"longitude out of range", []*pb.RouteNote{note(0, 1800000001, "bad")}, []string{"note.location.longitude", "1800000001"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := New()
			client := startServer(t, s)
			_, err := chat(testContext(t), client, nil, tc.notes)
			wantInvalid(t, "RouteChat", err, tc.mention...)

			// The rejected note must not have been stored.
			s.mu.Lock()
			defer s.mu.Unlock()
			for _, n := range tc.notes {
				if n.Location == nil {
					continue
				}
				for _, stored := range s.notes[keyOf(n.Location)] {
					if stored.Message == "bad" {
						t.Errorf("RouteChat stored rejected note %v", stored)
					}
				}
			}
		})
	}
}

func TestDistanceMetres(t *testing.T) {
	tests := []struct {
		a, b *pb.Point
		want float64 // metres, worked out independently with the spherical law of cosines
	}{
		{pt(0, 0), pt(0, 0), 0},
		{pt(0, 0), pt(0, 10000000), 111194.93},
		{pt(0, 0), pt(10000000, 0), 111194.93},
		{pt(600000000, 0), pt(600000000, 10000000), 55596.93}, // a little under half the equator's degree: the great circle cuts inside the parallel
		{pt(900000000, 0), pt(-900000000, 0), 20015086.80},    // pole to pole
		{pt(0, -1800000000), pt(0, 1800000000), 0},            // the same meridian
		{pt(0, 0), pt(0, 1800000000), 20015086.80},            // antipodes
	}
	for _, tc := range tests {
		got := distanceMetres(tc.a, tc.b)
		if math.Abs(got-tc.want) > 0.01 {
			t.Errorf("distanceMetres(%v, %v) = %.2f, want %.2f", tc.a, tc.b, got, tc.want)
		}
		if back := distanceMetres(tc.b, tc.a); math.Abs(back-got) > 1e-6 {
			t.Errorf("distanceMetres(%v, %v) = %.6f, want %.6f as in the other direction", tc.b, tc.a, back, got)
		}
	}
}
