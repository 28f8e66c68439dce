package adminpb_test

import (
	"fmt"

	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/resilience-go/grpc-resilience/faultinject/adminpb"
)

// The FaultAdmin methods and the idempotency each declares in the proto,
// which the retry interceptors read to decide whether ambiguous codes may be
// retried.
func Example_idempotency() {
	sd := adminpb.File_faultinject_adminpb_admin_proto.Services().ByName("FaultAdmin")
	methods := sd.Methods()
	for i := 0; i < methods.Len(); i++ {
		m := methods.Get(i)
		opts := m.Options().(*descriptorpb.MethodOptions)
		fmt.Printf("/%s/%s %v\n", sd.FullName(), m.Name(), opts.GetIdempotencyLevel())
	}
	// Output:
	// /grpcresilience.faultinject.v1.FaultAdmin/GetStats NO_SIDE_EFFECTS
	// /grpcresilience.faultinject.v1.FaultAdmin/GetRules NO_SIDE_EFFECTS
	// /grpcresilience.faultinject.v1.FaultAdmin/SetRules IDEMPOTENT
}

// Leaving the rules oneof unset is not the same as setting it to an empty
// spec: the first keeps the rules in force, the second clears them.
func ExampleSetRulesRequest() {
	keep := &adminpb.SetRulesRequest{}
	empty := &adminpb.SetRulesRequest{Rules: &adminpb.SetRulesRequest_Spec{Spec: ""}}
	fmt.Println(keep.GetRules() != nil, empty.GetRules() != nil)
	// Output: false true
}
