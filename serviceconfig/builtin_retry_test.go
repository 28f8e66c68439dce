package serviceconfig_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/internal/stubserver"
	rsc "github.com/resilience-go/grpc-resilience/serviceconfig"
)

// attemptLog records, for every attempt the server saw, the value of
// grpc-previous-rpc-attempts ("" on the first). Handlers run on server
// goroutines, hence the mutex.
type attemptLog struct {
	mu   sync.Mutex
	seen []string
}

func (l *attemptLog) add(ctx context.Context) int {
	md, _ := metadata.FromIncomingContext(ctx)
	prev := ""
	if v := md.Get("grpc-previous-rpc-attempts"); len(v) > 0 {
		prev = v[0]
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen = append(l.seen, prev)
	return len(l.seen)
}

func (l *attemptLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.seen)
}

// TestBuiltinRetryActsOnDialOption proves that DialOption hands the policy to
// grpc-go's own retry: with no interceptor in place, the server sees the
// attempts the policy allows, numbered by grpc-go.
func TestBuiltinRetryActsOnDialOption(t *testing.T) {
	const failures = 2 // the handler answers UNAVAILABLE this many times, then OK
	tests := []struct {
		name         string
		policy       string // the methodConfig members after "name"
		failWith     codes.Code
		wantCode     codes.Code
		wantAttempts []string // grpc-previous-rpc-attempts per attempt
	}{
		{
			name:         "maxAttempts 3 outlasts two failures",
			policy:       `"retryPolicy":{"maxAttempts":3,"initialBackoff":"0.001s","maxBackoff":"0.001s","backoffMultiplier":1,"retryableStatusCodes":["unavailable"]}`,
			failWith:     codes.Unavailable,
			wantCode:     codes.OK,
			wantAttempts: []string{"", "1", "2"},
		},
		{
			name:         "maxAttempts 2 gives up after two",
			policy:       `"retryPolicy":{"maxAttempts":2,"initialBackoff":"0.001s","maxBackoff":"0.001s","backoffMultiplier":1,"retryableStatusCodes":["UNAVAILABLE"]}`,
			failWith:     codes.Unavailable,
			wantCode:     codes.Unavailable,
			wantAttempts: []string{"", "1"},
		},
		{
			name:         "code not in the list is not retried",
			policy:       `"retryPolicy":{"maxAttempts":3,"initialBackoff":"0.001s","maxBackoff":"0.001s","backoffMultiplier":1,"retryableStatusCodes":["UNAVAILABLE"]}`,
			failWith:     codes.Internal,
			wantCode:     codes.Internal,
			wantAttempts: []string{""},
		},
		{
			// Documented: grpc-go ignores hedgingPolicy; this library's
			// interceptors are what act on it.
			name:         "grpc-go ignores hedgingPolicy",
			policy:       `"hedgingPolicy":{"maxAttempts":3,"nonFatalStatusCodes":["UNAVAILABLE"]}`,
			failWith:     codes.Unavailable,
			wantCode:     codes.Unavailable,
			wantAttempts: []string{""},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := rsc.Parse([]byte(`{"methodConfig":[{"name":[{"service":"routeguide.RouteGuide"}],` + tc.policy + `}]}`))
			if err != nil {
				t.Fatalf("Parse() = %v, want nil error", err)
			}
			var log attemptLog
			srv := stubserver.Start(t, stubserver.Handlers{
				GetFeature: func(ctx context.Context, p *pb.Point) (*pb.Feature, error) {
					if n := log.add(ctx); n <= failures {
						return nil, status.Errorf(tc.failWith, "attempt %d fails", n)
					}
					return &pb.Feature{Name: "ok", Location: p}, nil
				},
			})
			conn := srv.Dial(t, cfg.DialOption())
			ctx, cancel := context.WithTimeout(context.Background(), stubserver.DefaultTimeout)
			defer cancel()

			_, err = pb.NewRouteGuideClient(conn).GetFeature(ctx, &pb.Point{Latitude: 1, Longitude: 2})
			if got := status.Code(err); got != tc.wantCode {
				t.Errorf("GetFeature() = %v, want code %v", err, tc.wantCode)
			}
			if got := log.get(); !slices.Equal(got, tc.wantAttempts) {
				t.Errorf("server saw attempts with grpc-previous-rpc-attempts %q, want %q", got, tc.wantAttempts)
			}
		})
	}
}
