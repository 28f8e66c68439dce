package server

import (
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
)

// Server implements pb.RouteGuideServer. Create one with New; the zero value
// is not usable.
type Server struct {
	pb.UnimplementedRouteGuideServer

	features   []*pb.Feature         // database order, never modified
	byLocation map[point]*pb.Feature // first feature at each location
	now        func() time.Time      // clock for RecordRoute's elapsed time

	mu    sync.Mutex
	notes map[point][]*pb.RouteNote // guarded by mu
}

// point is a Point as a comparable map key.
type point struct{ lat, lng int32 }

func keyOf(p *pb.Point) point { return point{p.GetLatitude(), p.GetLongitude()} }

// Option configures a Server made by New.
type Option func(*options)

type options struct {
	features    []*pb.Feature
	setFeatures bool
	now         func() time.Time
}

// WithFeatures replaces the embedded database with features, kept in the
// given order. The Server stores copies, so the caller may reuse the slice
// and its messages. Nil entries and entries without a location are ignored.
// When several features share a location, GetFeature and RecordRoute use the
// first; ListFeatures returns them all. WithFeatures(nil) gives an empty
// database.
//
// Default: the embedded database of 25 named features (see the package doc).
func WithFeatures(features []*pb.Feature) Option {
	return func(o *options) {
		o.features = features
		o.setFeatures = true
	}
}

// withClock sets the clock RecordRoute reads at the start of a call and at
// the client's half-close, so tests can fix the elapsed time.
//
// Default: time.Now.
func withClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// New returns a route guide Server. The last of repeated options wins.
func New(opts ...Option) *Server {
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	src := o.features
	if !o.setFeatures {
		src = embeddedFeatures()
	}

	s := &Server{
		byLocation: make(map[point]*pb.Feature, len(src)),
		now:        o.now,
		notes:      make(map[point][]*pb.RouteNote),
	}
	for _, f := range src {
		if f.GetLocation() == nil {
			continue
		}
		f = proto.Clone(f).(*pb.Feature)
		s.features = append(s.features, f)
		if _, dup := s.byLocation[keyOf(f.Location)]; !dup {
			s.byLocation[keyOf(f.Location)] = f
		}
	}
	return s
}

// Register registers s as the RouteGuide service on r, which is usually a
// *grpc.Server. Like any registration it must happen before r starts serving.
func (s *Server) Register(r grpc.ServiceRegistrar) {
	pb.RegisterRouteGuideServer(r, s)
}

// Features returns copies of the database's features in database order, the
// order ListFeatures streams them in. The caller may modify them.
func (s *Server) Features() []*pb.Feature {
	out := make([]*pb.Feature, len(s.features))
	for i, f := range s.features {
		out[i] = proto.Clone(f).(*pb.Feature)
	}
	return out
}
