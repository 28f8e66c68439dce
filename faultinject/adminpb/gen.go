// Package adminpb holds the generated Go code for the fault admin service
// defined in admin.proto (package grpcresilience.faultinject.v1): the
// FaultAdmin client and server interfaces and their request, response,
// Rules and ConnStats messages.
//
// The server side lives in package
// github.com/resilience-go/grpc-resilience/faultinject/admin; this package
// holds only what protoc generates, so a client that steers servers needs
// nothing else.
//
// The files admin.pb.go and admin_grpc.pb.go are generated and committed; do
// not edit them. After changing admin.proto, rebuild them with
//
//	go generate ./faultinject/...
//
// which runs internal/protogen/protogen.sh. That script needs protoc (it installs Debian's
// protobuf-compiler when run as root and protoc is missing) and installs
// pinned versions of protoc-gen-go and protoc-gen-go-grpc into a temporary
// directory, so the output does not depend on the plugins on PATH.
//
// GetStats and GetRules carry option idempotency_level = NO_SIDE_EFFECTS in
// the proto and SetRules IDEMPOTENT, so the retry interceptors may retry all
// three after an ambiguous failure.
package adminpb

//go:generate bash ../../internal/protogen/protogen.sh ../.. faultinject/adminpb/admin.proto
