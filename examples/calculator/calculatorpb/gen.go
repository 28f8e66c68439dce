// Package calculatorpb holds the generated Go code for the calculator
// service defined in calculator.proto (package calculator): the CalcRequest,
// AccumulateRequest and CalcReply messages and the Calculator client and
// server interfaces.
//
// The files calculator.pb.go and calculator_grpc.pb.go are generated and
// committed; do not edit them. After changing calculator.proto, rebuild them
// with
//
//	go generate ./examples/calculator/...
//
// which runs internal/protogen/protogen.sh. That script needs protoc (it
// installs Debian's protobuf-compiler when run as root and protoc is
// missing) and installs pinned versions of protoc-gen-go and
// protoc-gen-go-grpc into a temporary directory, so the output does not
// depend on the plugins on PATH.
//
// The file registers in the protobuf registry as
// examples/calculator/calculatorpb/calculator.proto.
//
// Add and Multiply carry option idempotency_level = IDEMPOTENT in the proto;
// Accumulate, which changes the server's running total, declares nothing.
// The retry interceptors read this from the registered descriptor
// (File_examples_calculator_calculatorpb_calculator_proto): by default they
// retry Add and Multiply after an ambiguous failure such as INTERNAL, and
// Accumulate only after UNAVAILABLE.
package calculatorpb

//go:generate bash ../../../internal/protogen/protogen.sh ../../.. examples/calculator/calculatorpb/calculator.proto
