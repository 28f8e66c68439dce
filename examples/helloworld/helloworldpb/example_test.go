package helloworldpb_test

import (
	"fmt"

	"google.golang.org/protobuf/types/descriptorpb"

	pb "github.com/resilience-go/grpc-resilience/examples/helloworld/helloworldpb"
)

// The Greeter methods and the idempotency each declares in the proto,
// which the retry interceptors read to decide whether ambiguous codes may
// be retried; and the path the file registers under.
func Example_idempotency() {
	fd := pb.File_examples_helloworld_helloworldpb_helloworld_proto
	fmt.Println(fd.Path())
	sd := fd.Services().ByName("Greeter")
	for i := 0; i < sd.Methods().Len(); i++ {
		m := sd.Methods().Get(i)
		opts := m.Options().(*descriptorpb.MethodOptions)
		fmt.Printf("/%s/%s %v\n", sd.FullName(), m.Name(), opts.GetIdempotencyLevel())
	}
	// Output:
	// examples/helloworld/helloworldpb/helloworld.proto
	// /helloworld.Greeter/SayHello NO_SIDE_EFFECTS
	// /helloworld.Greeter/SayHelloStreamReply IDEMPOTENCY_UNKNOWN
	// /helloworld.Greeter/SayHelloBidiStream IDEMPOTENCY_UNKNOWN
}
