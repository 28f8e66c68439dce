// Package routeguidepb holds the generated Go code for the route guide
// service defined in route_guide.proto: the Point, Rectangle, Feature,
// RouteNote and RouteSummary messages and the RouteGuide client and server
// interfaces.
//
// The files route_guide.pb.go and route_guide_grpc.pb.go are generated and
// committed; do not edit them. After changing route_guide.proto, rebuild them
// with
//
//	go generate ./examples/routeguide/...
//
// which runs internal/protogen/protogen.sh. That script needs protoc (it installs Debian's
// protobuf-compiler when run as root and protoc is missing) and installs
// pinned versions of protoc-gen-go and protoc-gen-go-grpc into a temporary
// directory, so the output does not depend on the plugins on PATH.
//
// GetFeature and ListFeatures carry option idempotency_level =
// NO_SIDE_EFFECTS in the proto; code that decides whether a method is safe to
// retry reads it from the registered descriptor (File_route_guide_proto).
package routeguidepb

//go:generate bash ../../../internal/protogen/protogen.sh . route_guide.proto
