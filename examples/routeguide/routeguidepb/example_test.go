package routeguidepb_test

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
)

// The route guide methods and the idempotency each declares in the proto,
// which the retry interceptors read to decide whether ambiguous codes may
// be retried.
func Example_idempotency() {
	sd := pb.File_route_guide_proto.Services().ByName("RouteGuide")
	methods := sd.Methods()
	for i := 0; i < methods.Len(); i++ {
		m := methods.Get(i)
		opts := m.Options().(*descriptorpb.MethodOptions)
		fmt.Printf("/%s/%s %v\n", sd.FullName(), m.Name(), opts.GetIdempotencyLevel())
	}
	// Output:
	// /routeguide.RouteGuide/GetFeature NO_SIDE_EFFECTS
	// /routeguide.RouteGuide/ListFeatures NO_SIDE_EFFECTS
	// /routeguide.RouteGuide/RecordRoute IDEMPOTENCY_UNKNOWN
	// /routeguide.RouteGuide/RouteChat IDEMPOTENCY_UNKNOWN
}

// A Point on the wire: negative int32 fields take ten bytes as varints.
func ExamplePoint() {
	p := &pb.Point{Latitude: 409146138, Longitude: -746188906}
	b, _ := proto.Marshal(p)
	var back pb.Point
	_ = proto.Unmarshal(b, &back)
	fmt.Println(len(b), proto.Equal(p, &back))
	// Output: 17 true
}
