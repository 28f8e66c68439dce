package interceptors_test

import (
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/faultinject"
	"github.com/resilience-go/grpc-resilience/interceptors"
	"github.com/resilience-go/grpc-resilience/internal/stubserver"
	"github.com/resilience-go/grpc-resilience/retry"
)

// startInjected serves the script's handlers (all OK) behind a fault
// injector with spec (seed 1), on the server start makes.
func startInjected(t *testing.T, start func(testing.TB, stubserver.Handlers, ...stubserver.Option) *stubserver.Server, spec string) (*faultinject.Injector, *stubserver.Server) {
	t.Helper()
	rules, err := faultinject.ParseSpec(spec)
	if err != nil {
		t.Fatalf("ParseSpec(%q) = %v", spec, err)
	}
	in, err := faultinject.New(rules, faultinject.WithSeed(1))
	if err != nil {
		t.Fatalf("faultinject.New = %v", err)
	}
	srv := start(t, newScript().handlers(), stubserver.WithServerOptions(
		grpc.ChainUnaryInterceptor(in.UnaryServerInterceptor()),
		grpc.ChainStreamInterceptor(in.StreamServerInterceptor()),
	))
	return in, srv
}

// TestAgainstFirstAttemptFaults: the manual mode with 2 retries, and
// hedging with 3 attempts, get every call of every kind through a server
// that fails attempts 1 and 2 of each call, on both transports, with every
// response exactly once.
func TestAgainstFirstAttemptFaults(t *testing.T) {
	const calls = 10
	modes := []struct {
		name string
		opts []interceptors.Option
	}{
		{"retry", []interceptors.Option{interceptors.WithRetryTimes(2), interceptors.WithRetryInterval(time.Millisecond)}},
		// The delay is long: only the non-fatal codes send hedges.
		{"hedging", []interceptors.Option{interceptors.WithHedging(3, time.Hour, codes.Unavailable)}},
	}
	for _, m := range modes {
		for _, tr := range transports {
			for _, k := range kinds {
				t.Run(m.name+"/"+tr.name+"/"+k.name, func(t *testing.T) {
					in, srv := startInjected(t, tr.start, "first=2:unavailable")
					client := pbClient(srv.Dial(t, interceptors.DialOptions(m.opts...)...))
					ctx := testContext(t)
					for i := range calls {
						if err := k.call(ctx, client); err != nil {
							t.Fatalf("call %d = %v, want nil", i+1, err)
						}
					}
					if st := in.Stats(); st.Calls != 3*calls || st.AbortsByCode[codes.Unavailable] != 2*calls {
						t.Errorf("Stats() = %+v, want %d attempts of which %d aborted", st, 3*calls, 2*calls)
					}
				})
			}
		}
	}
}

// TestPartialStreamNotRetried: a stream that fails after response messages
// arrived is committed; the interceptor, retrying or hedging, returns its
// error after one attempt and says why.
func TestPartialStreamNotRetried(t *testing.T) {
	for _, opt := range []interceptors.Option{interceptors.WithRetryTimes(4), interceptors.WithHedging(5, time.Hour, codes.Unavailable)} {
		in, srv := startInjected(t, stubserver.Start, "/routeguide.RouteGuide/ListFeatures:unavailable+after=2")
		client := pbClient(srv.Dial(t, interceptors.DialOptions(opt)...))
		stream, err := client.ListFeatures(testContext(t), &pb.Rectangle{})
		if err != nil {
			t.Fatal(err)
		}
		// The request, then one feature passed; the second send failed.
		features, err := recvAll(stream.Recv)
		if len(features) != 1 || status.Code(err) != codes.Unavailable {
			t.Fatalf("ListFeatures = %d features, %v; want 1 feature, then Unavailable", len(features), err)
		}
		if attempts, reason, ok := retry.Info(err); !ok || attempts != 1 || reason != retry.Committed || !errors.Is(err, retry.ErrCommitted) {
			t.Errorf("retry.Info(%v) = %d, %v, %v; want 1 attempt, stopped: committed", err, attempts, reason, ok)
		}
		if st := in.Stats(); st.Calls != 1 || st.StreamAborts != 1 {
			t.Errorf("Stats() = %+v, want 1 call, 1 stream abort", st)
		}
	}
}
