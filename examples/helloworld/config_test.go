package helloworld_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"

	"github.com/resilience-go/grpc-resilience/examples/helloworld"
	pb "github.com/resilience-go/grpc-resilience/examples/helloworld/helloworldpb"
	rsc "github.com/resilience-go/grpc-resilience/serviceconfig"
)

// TestServiceConfig checks that the committed config parses strictly and
// gives every Greeter method the documented retry policy.
func TestServiceConfig(t *testing.T) {
	cfg, err := rsc.Parse(helloworld.ServiceConfigJSON())
	if err != nil {
		t.Fatalf("rsc.Parse(service_config.json) = %v, want nil", err)
	}
	want := &rsc.RetryPolicy{
		MaxAttempts:          5,
		InitialBackoff:       10 * time.Millisecond,
		MaxBackoff:           100 * time.Millisecond,
		BackoffMultiplier:    2,
		RetryableStatusCodes: []codes.Code{codes.Unavailable},
	}
	for _, m := range pb.Greeter_ServiceDesc.Methods {
		checkMethod(t, cfg, "/helloworld.Greeter/"+m.MethodName, want)
	}
	for _, s := range pb.Greeter_ServiceDesc.Streams {
		checkMethod(t, cfg, "/helloworld.Greeter/"+s.StreamName, want)
	}
	if diff := cmp.Diff(&rsc.RetryThrottling{MaxTokens: 10, TokenRatio: 0.1}, cfg.RetryThrottling); diff != "" {
		t.Errorf("RetryThrottling mismatch (-want +got):\n%s", diff)
	}
}

func checkMethod(t *testing.T, cfg *rsc.Config, method string, want *rsc.RetryPolicy) {
	t.Helper()
	mc := cfg.MethodConfig(method)
	if mc == nil {
		t.Errorf("MethodConfig(%q) = nil, want the Greeter entry", method)
		return
	}
	if diff := cmp.Diff(want, mc.RetryPolicy); diff != "" {
		t.Errorf("MethodConfig(%q).RetryPolicy mismatch (-want +got):\n%s", method, diff)
	}
	if got, want := mc.Timeout, 5*time.Second; got != want {
		t.Errorf("MethodConfig(%q).Timeout = %v, want %v", method, got, want)
	}
}

// TestServiceConfigJSONCopies checks that callers cannot change the
// embedded config through the slice they get.
func TestServiceConfigJSONCopies(t *testing.T) {
	b := helloworld.ServiceConfigJSON()
	b[0] = 'x'
	if got := helloworld.ServiceConfigJSON()[0]; got != '{' {
		t.Errorf("ServiceConfigJSON()[0] after changing an earlier copy = %q, want '{'", got)
	}
}
