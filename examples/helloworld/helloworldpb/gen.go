// Package helloworldpb holds the generated Go code for the greeter service
// defined in helloworld.proto (package helloworld): the HelloRequest and
// HelloReply messages and the Greeter client and server interfaces.
//
// The files helloworld.pb.go and helloworld_grpc.pb.go are generated and
// committed; do not edit them. After changing helloworld.proto, rebuild them
// with
//
//	go generate ./examples/helloworld/...
//
// which runs internal/protogen/protogen.sh. That script needs protoc (it
// installs Debian's protobuf-compiler when run as root and protoc is
// missing) and installs pinned versions of protoc-gen-go and
// protoc-gen-go-grpc into a temporary directory, so the output does not
// depend on the plugins on PATH.
//
// The file registers in the protobuf registry as
// examples/helloworld/helloworldpb/helloworld.proto, a path that cannot
// collide with grpc-go's own examples, whose file is called helloworld.proto.
//
// SayHello carries option idempotency_level = NO_SIDE_EFFECTS in the proto:
// it only builds a string. The retry interceptors read that from the
// registered descriptor (File_examples_helloworld_helloworldpb_helloworld_proto)
// and may retry SayHello after an ambiguous failure such as INTERNAL. The two
// streaming methods declare nothing, so only UNAVAILABLE is retried for them
// by default.
package helloworldpb

//go:generate bash ../../../internal/protogen/protogen.sh ../../.. examples/helloworld/helloworldpb/helloworld.proto
