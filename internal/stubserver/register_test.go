package stubserver

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// WithRegister serves more services beside the route guide, in order, on
// the same server and connection.
func TestWithRegister(t *testing.T) {
	var order []string
	hs := health.NewServer()
	srv := Start(t, Handlers{},
		WithRegister(func(r grpc.ServiceRegistrar) {
			order = append(order, "health")
			healthpb.RegisterHealthServer(r, hs)
		}),
		WithRegister(nil), // ignored
		WithRegister(func(grpc.ServiceRegistrar) { order = append(order, "second") }),
	)
	if got, want := order, []string{"health", "second"}; !cmp.Equal(got, want) {
		t.Errorf("WithRegister calls = %v, want %v", got, want)
	}

	resp, err := healthpb.NewHealthClient(srv.Conn()).Check(testContext(t), &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatalf("Health.Check() = %v, want nil error", err)
	}
	if got, want := resp.GetStatus(), healthpb.HealthCheckResponse_SERVING; got != want {
		t.Errorf("Health.Check() = %v, want %v", got, want)
	}
	if _, err := srv.Client().GetFeature(testContext(t), lighthouse); err != nil {
		t.Errorf("GetFeature() = %v, want nil error", err)
	}
}
