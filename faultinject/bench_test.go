package faultinject_test

import (
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/resilience-go/grpc-resilience/faultinject"
)

// noMatch holds rules for another service only, so every call is checked
// and none is faulted: the cost a server pays for having the interceptors
// installed while no fault applies.
const noMatch = "/other.Service/*:unavailable=50%,/other.Service/*:delay=1s@50%,/other.Service/Get:every=2:internal"

func noMatchInjector(tb testing.TB) *faultinject.Injector {
	tb.Helper()
	rules, err := faultinject.ParseSpec(noMatch)
	if err != nil {
		tb.Fatal(err)
	}
	in, err := faultinject.New(rules, faultinject.WithSeed(1))
	if err != nil {
		tb.Fatal(err)
	}
	return in
}

// A context like grpc-go's server gives a handler: incoming metadata with
// a few headers.
func serverContext() context.Context {
	return metadata.NewIncomingContext(context.Background(), metadata.Pairs(
		":authority", "127.0.0.1", "content-type", "application/grpc", "user-agent", "grpc-go/1.85.0"))
}

var (
	unaryInfo  = &grpc.UnaryServerInfo{FullMethod: "/routeguide.RouteGuide/GetFeature"}
	streamInfo = &grpc.StreamServerInfo{FullMethod: "/routeguide.RouteGuide/RouteChat", IsClientStream: true, IsServerStream: true}
)

func unaryHandler(context.Context, any) (any, error) { return nil, nil }
func streamHandler(any, grpc.ServerStream) error     { return nil }

// fakeStream is the least a stream interceptor needs.
type fakeStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s fakeStream) Context() context.Context { return s.ctx }

// BenchmarkNoMatch measures the interceptors alone, with a handler that
// does nothing, on a call no rule matches. Compare with the server
// benchmarks of the bench module (BenchmarkServer*) for the share of a
// whole call.
func BenchmarkNoMatch(b *testing.B) {
	in := noMatchInjector(b)
	ctx := serverContext()
	b.Run("unary", func(b *testing.B) {
		icpt := in.UnaryServerInterceptor()
		b.ReportAllocs()
		for range b.N {
			_, _ = icpt(ctx, nil, unaryInfo, unaryHandler)
		}
	})
	b.Run("stream", func(b *testing.B) {
		icpt := in.StreamServerInterceptor()
		ss := &fakeStream{ctx: ctx}
		b.ReportAllocs()
		for range b.N {
			_ = icpt(nil, ss, streamInfo, streamHandler)
		}
	})
}

// TestNoMatchAllocatesNothing: a call that no rule matches costs the
// injector no allocation.
func TestNoMatchAllocatesNothing(t *testing.T) {
	in := noMatchInjector(t)
	ctx := serverContext()
	unary, stream := in.UnaryServerInterceptor(), in.StreamServerInterceptor()
	ss := &fakeStream{ctx: ctx}
	if n := testing.AllocsPerRun(100, func() { _, _ = unary(ctx, nil, unaryInfo, unaryHandler) }); n != 0 {
		t.Errorf("unary interceptor, no rule matching: %v allocs per call, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = stream(nil, ss, streamInfo, streamHandler) }); n != 0 {
		t.Errorf("stream interceptor, no rule matching: %v allocs per call, want 0", n)
	}
}
