package admin_test

import (
	"context"
	"net"
	"testing"

	"google.golang.org/grpc"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/faultinject"
	"github.com/resilience-go/grpc-resilience/faultinject/admin"
	"github.com/resilience-go/grpc-resilience/faultinject/adminpb"
	"github.com/resilience-go/grpc-resilience/internal/stubserver"
)

// lighthouse is a point with a feature in the route guide's database.
var lighthouse = &pb.Point{Latitude: 101203450, Longitude: -398765430}

// testToken is the bearer token of the fixture's admin service.
const testToken = "fixture-token-2f6c1e9a"

// setup says how to build a fixture; the zero value is a server with an
// injector holding no rules, its unary interceptor wrapped by admin.Exempt,
// no fault listener, and the admin service requiring testToken, which the
// fixture's connection sends.
type setup struct {
	rules     string // ParseSpec form, for faultinject.New
	listener  bool   // serve through a faultinject.Listener
	notExempt bool   // install the injector's interceptor without admin.Exempt
}

// fixture is a route guide server with an injector's interceptors and the
// admin service on one grpc.Server, and clients for both over one
// connection that sends testToken with the admin calls.
type fixture struct {
	srv   *stubserver.Server
	in    *faultinject.Injector
	lis   *faultinject.Listener // nil unless setup.listener
	route pb.RouteGuideClient
	admin adminpb.FaultAdminClient
}

func start(t *testing.T, s setup) *fixture {
	t.Helper()
	rules, err := faultinject.ParseSpec(s.rules)
	if err != nil {
		t.Fatalf("ParseSpec(%q) = %v, want nil error", s.rules, err)
	}
	in, err := faultinject.New(rules, faultinject.WithSeed(1))
	if err != nil {
		t.Fatalf("faultinject.New(%q) = %v, want nil error", s.rules, err)
	}
	f := &fixture{in: in}

	unary := in.UnaryServerInterceptor()
	if !s.notExempt {
		unary = admin.Exempt(unary)
	}
	opts := []stubserver.Option{
		stubserver.WithServerOptions(
			grpc.ChainUnaryInterceptor(unary),
			grpc.ChainStreamInterceptor(in.StreamServerInterceptor()),
		),
		stubserver.WithDialOptions(grpc.WithPerRPCCredentials(admin.InsecureBearerToken(testToken))),
	}
	var newListenerErr, registerErr error
	if s.listener {
		opts = append(opts, stubserver.WithListener(func(l net.Listener) net.Listener {
			f.lis, newListenerErr = faultinject.NewListener(l, faultinject.ConnFaults{}, faultinject.WithSeed(1))
			if newListenerErr != nil {
				return l
			}
			return f.lis
		}))
	}
	// WithRegister runs after WithListener's wrap, so f.lis is set by then.
	opts = append(opts, stubserver.WithRegister(func(r grpc.ServiceRegistrar) {
		aopts := []admin.Option{admin.WithBearerToken(testToken)}
		if f.lis != nil {
			aopts = append(aopts, admin.WithListener(f.lis))
		}
		registerErr = admin.Register(r, in, aopts...)
	}))
	f.srv = stubserver.Start(t, stubserver.Handlers{}, opts...)
	if newListenerErr != nil {
		t.Fatalf("faultinject.NewListener(bufconn) = %v, want nil error", newListenerErr)
	}
	if registerErr != nil {
		t.Fatalf("admin.Register(WithBearerToken) = %v, want nil error", registerErr)
	}
	f.route = f.srv.Client()
	f.admin = adminpb.NewFaultAdminClient(f.srv.Conn())
	return f
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stubserver.DefaultTimeout)
	t.Cleanup(cancel)
	return ctx
}

// mustSetRules calls SetRules and fails the test on an error.
func (f *fixture) mustSetRules(ctx context.Context, t *testing.T, req *adminpb.SetRulesRequest) *adminpb.Rules {
	t.Helper()
	got, err := f.admin.SetRules(ctx, req)
	if err != nil {
		t.Fatalf("SetRules(%v) = %v, want nil error", req, err)
	}
	return got
}

// mustGetRules calls GetRules and fails the test on an error.
func (f *fixture) mustGetRules(ctx context.Context, t *testing.T) *adminpb.Rules {
	t.Helper()
	got, err := f.admin.GetRules(ctx, &adminpb.GetRulesRequest{})
	if err != nil {
		t.Fatalf("GetRules() = %v, want nil error", err)
	}
	return got
}

// mustGetStats calls GetStats and fails the test on an error.
func (f *fixture) mustGetStats(ctx context.Context, t *testing.T) *adminpb.GetStatsResponse {
	t.Helper()
	got, err := f.admin.GetStats(ctx, &adminpb.GetStatsRequest{})
	if err != nil {
		t.Fatalf("GetStats() = %v, want nil error", err)
	}
	return got
}

func specReq(spec string) *adminpb.SetRulesRequest {
	return &adminpb.SetRulesRequest{Rules: &adminpb.SetRulesRequest_Spec{Spec: spec}}
}

func jsonReq(js string) *adminpb.SetRulesRequest {
	return &adminpb.SetRulesRequest{Rules: &adminpb.SetRulesRequest_Json{Json: js}}
}
