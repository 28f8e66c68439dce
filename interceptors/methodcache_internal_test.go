package interceptors

import (
	"context"
	"fmt"
	"testing"

	"google.golang.org/grpc"
)

// TestMethodCachesBounded: a client that sees ever new method names (a
// proxy's hostile callers) keeps at most maxCachedMethods entries in each
// per-method cache, and still plans every call; known methods keep their
// cached entries.
func TestMethodCachesBounded(t *testing.T) {
	const names = 3 * maxCachedMethods
	c := newClient([]Option{WithRetryTimes(2)})
	first := c.planFor(&c.base, "/known.Service/Method", false)
	for i := range names {
		method := fmt.Sprintf("/hostile.Service%d/Method%d", i, i)
		if p := c.planFor(&c.base, method, false); p == nil || p.policy == nil || p.policy.MaxAttempts != 3 {
			t.Fatalf("planFor(%q) = %+v, want a plan of 3 attempts", method, p)
		}
		c.latenciesOf(method, 0.9)
	}
	for name, n := range map[string]int{"plans": c.plans.len(), "protoIdem": c.protoIdem.len(), "latency": c.latency.len()} {
		if n > maxCachedMethods {
			t.Errorf("the %s cache keeps %d entries after %d method names, want at most %d", name, n, names, maxCachedMethods)
		}
	}
	if again := c.planFor(&c.base, "/known.Service/Method", false); again != first {
		t.Errorf("the known method's plan was not kept")
	}
	// Through the interceptor itself, as a proxy calls it.
	invoke := func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error { return nil }
	for i := range 100 {
		if err := c.unary(context.Background(), fmt.Sprintf("/more.S/M%d", i), nil, nil, nil, invoke); err != nil {
			t.Fatalf("unary = %v", err)
		}
	}
	if n := c.plans.len(); n > maxCachedMethods {
		t.Errorf("the plans cache keeps %d entries, want at most %d", n, maxCachedMethods)
	}
}
