package calculatorpb_test

import (
	"fmt"

	"google.golang.org/protobuf/types/descriptorpb"

	pb "github.com/resilience-go/grpc-resilience/examples/calculator/calculatorpb"
)

// The Calculator methods and the idempotency each declares in the proto,
// which the retry interceptors read to decide whether ambiguous codes such
// as INTERNAL may be retried; and the path the file registers under.
func Example_idempotency() {
	fd := pb.File_examples_calculator_calculatorpb_calculator_proto
	fmt.Println(fd.Path())
	sd := fd.Services().ByName("Calculator")
	for i := 0; i < sd.Methods().Len(); i++ {
		m := sd.Methods().Get(i)
		opts := m.Options().(*descriptorpb.MethodOptions)
		fmt.Printf("/%s/%s %v\n", sd.FullName(), m.Name(), opts.GetIdempotencyLevel())
	}
	// Output:
	// examples/calculator/calculatorpb/calculator.proto
	// /calculator.Calculator/Add IDEMPOTENT
	// /calculator.Calculator/Multiply IDEMPOTENT
	// /calculator.Calculator/Accumulate IDEMPOTENCY_UNKNOWN
}
