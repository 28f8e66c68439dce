package admin_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/faultinject"
	"github.com/resilience-go/grpc-resilience/faultinject/admin"
	"github.com/resilience-go/grpc-resilience/faultinject/adminpb"
	"github.com/resilience-go/grpc-resilience/internal/stubserver"
)

// getFeatureCodes makes n GetFeature calls and returns their codes.
func (f *fixture) getFeatureCodes(ctx context.Context, n int) []codes.Code {
	var got []codes.Code
	for range n {
		_, err := f.route.GetFeature(ctx, lighthouse)
		got = append(got, status.Code(err))
	}
	return got
}

// SetRules, in either form, changes the faults of the very next calls, and
// GetStats counts what they met.
func TestSetRulesFaultsNextCalls(t *testing.T) {
	const U, I, R, OK = codes.Unavailable, codes.Internal, codes.ResourceExhausted, codes.OK
	tests := []struct {
		name      string
		req       *adminpb.SetRulesRequest
		wantCodes []codes.Code
		wantStats *adminpb.GetStatsResponse
	}{
		{
			name:      "spec for one method",
			req:       specReq("/routeguide.RouteGuide/GetFeature:unavailable"),
			wantCodes: []codes.Code{U, U, U, U},
			wantStats: &adminpb.GetStatsResponse{Calls: 4, Aborts: 4, AbortsByCode: map[string]uint64{"UNAVAILABLE": 4}},
		},
		{
			name:      "spec every second call",
			req:       specReq("every=2:internal"),
			wantCodes: []codes.Code{OK, I, OK, I},
			wantStats: &adminpb.GetStatsResponse{Calls: 4, Aborts: 2, AbortsByCode: map[string]uint64{"INTERNAL": 2}},
		},
		{
			name:      "spec for another method",
			req:       specReq("/routeguide.RouteGuide/ListFeatures:unavailable"),
			wantCodes: []codes.Code{OK, OK, OK, OK},
			wantStats: &adminpb.GetStatsResponse{Calls: 4, AbortsByCode: map[string]uint64{}},
		},
		{
			name:      "json object",
			req:       jsonReq(`{"rules": [{"method": "/routeguide.RouteGuide/*", "abort": {"code": "resource_exhausted"}}]}`),
			wantCodes: []codes.Code{R, R, R, R},
			wantStats: &adminpb.GetStatsResponse{Calls: 4, Aborts: 4, AbortsByCode: map[string]uint64{"RESOURCE_EXHAUSTED": 4}},
		},
		{
			name:      "json list, two codes",
			req:       jsonReq(`[{"abort": {"code": 14, "every": 2}}, {"abort": {"code": "INTERNAL", "every": 4}}]`),
			wantCodes: []codes.Code{OK, U, OK, U},
			wantStats: &adminpb.GetStatsResponse{Calls: 4, Aborts: 2, AbortsByCode: map[string]uint64{"UNAVAILABLE": 2}},
		},
		{
			name:      "json list, second rule fires",
			req:       jsonReq(`[{"abort": {"code": 14, "every": 3}}, {"abort": {"code": "INTERNAL", "every": 2}}]`),
			wantCodes: []codes.Code{OK, I, U, I},
			wantStats: &adminpb.GetStatsResponse{Calls: 4, Aborts: 3, AbortsByCode: map[string]uint64{"UNAVAILABLE": 1, "INTERNAL": 2}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			f := start(t, setup{})
			f.mustSetRules(ctx, t, tt.req)

			if got := f.getFeatureCodes(ctx, len(tt.wantCodes)); !cmp.Equal(got, tt.wantCodes) {
				t.Errorf("GetFeature codes after SetRules(%v) = %v, want %v", tt.req, got, tt.wantCodes)
			}
			got := f.mustGetStats(ctx, t)
			if diff := cmp.Diff(tt.wantStats, got, protocmp.Transform()); diff != "" {
				t.Errorf("GetStats() after SetRules(%v) mismatch (-want +got):\n%s", tt.req, diff)
			}
		})
	}
}

// An invalid request is refused with its code and changes nothing; a parse
// error reaches the client word for word, so it names the bad token.
func TestSetRulesInvalid(t *testing.T) {
	const before = "every=3:aborted"
	specErr := func(s string) func() error {
		return func() error { _, err := faultinject.ParseSpec(s); return err }
	}
	jsonErr := func(s string) func() error {
		return func() error { _, err := faultinject.ParseRules([]byte(s)); return err }
	}
	strptr := func(s string) *string { return &s }
	tests := []struct {
		name     string
		req      *adminpb.SetRulesRequest
		wantCode codes.Code
		// wantErr, when set, gives the error whose text the status
		// message must be.
		wantErr func() error
	}{
		{"spec, unknown fault", specReq("bogus"), codes.InvalidArgument, specErr("bogus")},
		{"spec, share above 100%", specReq("unavailable=150%"), codes.InvalidArgument, specErr("unavailable=150%")},
		{"spec, second rule bad", specReq("internal,delay=soon"), codes.InvalidArgument, specErr("internal,delay=soon")},
		{"spec, OK is no fault", specReq("ok"), codes.InvalidArgument, specErr("ok")},
		{"json, syntax", jsonReq(`{"rules": [`), codes.InvalidArgument, jsonErr(`{"rules": [`)},
		{"json, unknown field", jsonReq(`[{"abort": {"code": "INTERNAL", "rate": 5}}]`), codes.InvalidArgument, jsonErr(`[{"abort": {"code": "INTERNAL", "rate": 5}}]`)},
		{"json, bad code", jsonReq(`[{"abort": {"code": "BROKEN"}}]`), codes.InvalidArgument, jsonErr(`[{"abort": {"code": "BROKEN"}}]`)},
		{"json, bad method", jsonReq(`[{"method": "GetFeature", "abort": {"code": 14}}]`), codes.InvalidArgument, jsonErr(`[{"method": "GetFeature", "abort": {"code": 14}}]`)},
		{"empty request", &adminpb.SetRulesRequest{}, codes.InvalidArgument, nil},
		{"conn_spec without listener", &adminpb.SetRulesRequest{ConnSpec: strptr("refuse=10%")}, codes.FailedPrecondition, nil},
		{"empty conn_spec without listener", &adminpb.SetRulesRequest{ConnSpec: strptr("")}, codes.FailedPrecondition, nil},
		{
			name:     "valid spec with conn_spec, without listener",
			req:      &adminpb.SetRulesRequest{Rules: &adminpb.SetRulesRequest_Spec{Spec: "internal"}, ConnSpec: strptr("")},
			wantCode: codes.FailedPrecondition,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			f := start(t, setup{rules: before})
			want := f.mustGetRules(ctx, t)

			_, err := f.admin.SetRules(ctx, tt.req)
			if got := status.Code(err); got != tt.wantCode {
				t.Fatalf("SetRules(%v) = %v, want code %v", tt.req, err, tt.wantCode)
			}
			if tt.wantErr != nil {
				parseErr := tt.wantErr()
				if parseErr == nil {
					t.Fatalf("the parser accepts the input of SetRules(%v); the test is wrong", tt.req)
				}
				if got := status.Convert(err).Message(); got != parseErr.Error() {
					t.Errorf("SetRules(%v) message = %q, want the parse error %q", tt.req, got, parseErr.Error())
				}
			}
			if got := f.mustGetRules(ctx, t); !proto.Equal(got, want) {
				t.Errorf("GetRules() after the refused SetRules(%v) = %v, want unchanged %v", tt.req, got, want)
			}
			// The old rules still apply, every-3 counting included.
			wantCodes := []codes.Code{codes.OK, codes.OK, codes.Aborted}
			if got := f.getFeatureCodes(ctx, 3); !cmp.Equal(got, wantCodes) {
				t.Errorf("GetFeature codes after the refused SetRules(%v) = %v, want %v", tt.req, got, wantCodes)
			}
		})
	}
}

// An empty rule list, in either form, clears the rules.
func TestSetRulesClears(t *testing.T) {
	emptyJSON, err := faultinject.MarshalRules(nil)
	if err != nil {
		t.Fatalf("MarshalRules(nil) = %v, want nil error", err)
	}
	want := &adminpb.Rules{Json: string(emptyJSON)}
	for _, req := range []*adminpb.SetRulesRequest{
		specReq(""),
		specReq("  "),
		jsonReq("[]"),
		jsonReq(`{"rules": []}`),
		jsonReq(string(emptyJSON)),
	} {
		t.Run(fmt.Sprint(req), func(t *testing.T) {
			ctx := testContext(t)
			f := start(t, setup{rules: "unavailable"})
			if got := f.getFeatureCodes(ctx, 1); got[0] != codes.Unavailable {
				t.Fatalf("GetFeature before clearing = %v, want %v", got[0], codes.Unavailable)
			}

			if got := f.mustSetRules(ctx, t, req); !proto.Equal(got, want) {
				t.Errorf("SetRules(%v) = %v, want %v", req, got, want)
			}
			if got := f.mustGetRules(ctx, t); !proto.Equal(got, want) {
				t.Errorf("GetRules() after SetRules(%v) = %v, want %v", req, got, want)
			}
			if got := f.getFeatureCodes(ctx, 2); !cmp.Equal(got, []codes.Code{codes.OK, codes.OK}) {
				t.Errorf("GetFeature codes after SetRules(%v) = %v, want [OK OK]", req, got)
			}
			if got := len(f.in.Rules()); got != 0 {
				t.Errorf("len(Injector.Rules()) after SetRules(%v) = %d, want 0", req, got)
			}
		})
	}
}

// What GetRules returns is the injector's rules in both forms, and either
// form fed back to SetRules leaves the same rules in force.
func TestGetRulesRoundTrip(t *testing.T) {
	for _, spec := range []string{
		"unavailable",
		"unavailable=30%+pushback=100ms,delay=50ms~10ms@20%",
		"first=2:unavailable+pushback=10ms+msg=busy",
		"/routeguide.RouteGuide/ListFeatures:internal+after=2,/routeguide.RouteGuide/*:every=5:aborted",
	} {
		t.Run(spec, func(t *testing.T) {
			ctx := testContext(t)
			f := start(t, setup{})
			rules, err := faultinject.ParseSpec(spec)
			if err != nil {
				t.Fatalf("ParseSpec(%q) = %v, want nil error", spec, err)
			}
			wantSpec, err := faultinject.FormatSpec(rules)
			if err != nil {
				t.Fatalf("FormatSpec(ParseSpec(%q)) = %v, want nil error", spec, err)
			}

			set := f.mustSetRules(ctx, t, specReq(spec))
			got := f.mustGetRules(ctx, t)
			if !proto.Equal(got, set) {
				t.Errorf("GetRules() = %v, want what SetRules returned, %v", got, set)
			}
			if got.GetSpec() != wantSpec || got.GetSpecError() != "" || got.ConnSpec != nil {
				t.Errorf("GetRules() = %v, want spec %q, no spec_error and no conn_spec", got, wantSpec)
			}
			fromJSON, err := faultinject.ParseRules([]byte(got.GetJson()))
			if err != nil {
				t.Fatalf("ParseRules(GetRules().json) = %v, want nil error", err)
			}
			if diff := cmp.Diff(rules, fromJSON, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ParseRules(GetRules().json) mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(rules, f.in.Rules(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Injector.Rules() mismatch (-want +got):\n%s", diff)
			}

			for _, req := range []*adminpb.SetRulesRequest{jsonReq(got.GetJson()), specReq(got.GetSpec())} {
				if again := f.mustSetRules(ctx, t, req); !proto.Equal(again, got) {
					t.Errorf("SetRules(%v) = %v, want %v", req, again, got)
				}
			}
		})
	}
}

// Rules the text form cannot hold come back as JSON only, with the reason
// in spec_error.
func TestGetRulesNoTextForm(t *testing.T) {
	ctx := testContext(t)
	f := start(t, setup{})
	const js = `[{"abort": {"code": "UNAVAILABLE", "message": "down, for now"}}]`
	got := f.mustSetRules(ctx, t, jsonReq(js))
	if got.GetSpec() != "" || got.GetSpecError() == "" {
		t.Errorf("SetRules(json %s) = %v, want an empty spec and a spec_error", js, got)
	}
	back, err := faultinject.ParseRules([]byte(got.GetJson()))
	if err != nil {
		t.Fatalf("ParseRules(SetRules().json) = %v, want nil error", err)
	}
	if diff := cmp.Diff(f.in.Rules(), back); diff != "" {
		t.Errorf("ParseRules(SetRules().json) mismatch (-want +got):\n%s", diff)
	}
	_, err = f.route.GetFeature(ctx, lighthouse)
	if got, want := status.Convert(err).Message(), "down, for now"; got != want {
		t.Errorf("GetFeature() message = %q, want %q", got, want)
	}
}

// A server for a nil injector answers FAILED_PRECONDITION to an
// authenticated caller, in process and over the wire, and never panics.
func TestNilInjector(t *testing.T) {
	ctx := testContext(t)
	srv, err := admin.NewServer(nil, admin.WithoutAuthentication())
	if err != nil {
		t.Fatalf("NewServer(nil, WithoutAuthentication()) = %v, want nil error", err)
	}
	calls := []struct {
		name string
		call func(adminpb.FaultAdminServer) error
	}{
		{"GetStats", func(s adminpb.FaultAdminServer) error {
			_, err := s.GetStats(ctx, &adminpb.GetStatsRequest{})
			return err
		}},
		{"GetRules", func(s adminpb.FaultAdminServer) error {
			_, err := s.GetRules(ctx, &adminpb.GetRulesRequest{})
			return err
		}},
		{"SetRules", func(s adminpb.FaultAdminServer) error {
			_, err := s.SetRules(ctx, specReq(""))
			return err
		}},
	}
	for _, c := range calls {
		if got := status.Code(c.call(srv)); got != codes.FailedPrecondition {
			t.Errorf("NewServer(nil).%s() = %v, want code %v", c.name, got, codes.FailedPrecondition)
		}
	}

	var registerErr error
	ss := stubserver.Start(t, stubserver.Handlers{}, stubserver.WithRegister(func(r grpc.ServiceRegistrar) {
		registerErr = admin.Register(r, nil, admin.WithBearerToken(testToken))
	}), stubserver.WithDialOptions(grpc.WithPerRPCCredentials(admin.InsecureBearerToken(testToken))))
	if registerErr != nil {
		t.Fatalf("Register(s, nil, WithBearerToken) = %v, want nil error", registerErr)
	}
	client := adminpb.NewFaultAdminClient(ss.Conn())
	_, err = client.GetStats(ctx, &adminpb.GetStatsRequest{})
	if got := status.Code(err); got != codes.FailedPrecondition {
		t.Errorf("GetStats() on Register(s, nil) = %v, want code %v", err, codes.FailedPrecondition)
	}
}

// Rules for every method hit the admin calls too, unless the injector's
// interceptor is wrapped with Exempt; exempt calls are not counted.
func TestExempt(t *testing.T) {
	tests := []struct {
		notExempt bool
		wantCode  codes.Code
	}{
		{notExempt: false, wantCode: codes.OK},
		{notExempt: true, wantCode: codes.Unavailable},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("notExempt=%v", tt.notExempt), func(t *testing.T) {
			ctx := testContext(t)
			f := start(t, setup{rules: "unavailable", notExempt: tt.notExempt})
			if got := f.getFeatureCodes(ctx, 1); got[0] != codes.Unavailable {
				t.Errorf("GetFeature() = %v, want %v", got[0], codes.Unavailable)
			}

			_, err := f.admin.GetStats(ctx, &adminpb.GetStatsRequest{})
			if got := status.Code(err); got != tt.wantCode {
				t.Errorf("GetStats() = %v, want code %v", err, tt.wantCode)
			}
			// The injector saw the route guide call, and the admin call
			// only when it was not exempt.
			wantCalls := uint64(1)
			if tt.notExempt {
				wantCalls = 2
			}
			if got := f.in.Stats().Calls; got != wantCalls {
				t.Errorf("Injector.Stats().Calls = %d, want %d", got, wantCalls)
			}
		})
	}
}

// Without a listener, neither the stats nor the rules say anything about
// connections.
func TestNoListener(t *testing.T) {
	ctx := testContext(t)
	f := start(t, setup{})
	if got := f.mustGetStats(ctx, t); got.Conn != nil {
		t.Errorf("GetStats().conn = %v, want absent", got.Conn)
	}
	if got := f.mustGetRules(ctx, t); got.ConnSpec != nil {
		t.Errorf("GetRules().conn_spec = %q, want absent", got.GetConnSpec())
	}
}

// With a listener, GetStats counts connections, and SetRules replaces the
// connection faults alone, with the rules, or not at all.
func TestListener(t *testing.T) {
	ctx := testContext(t)
	f := start(t, setup{listener: true, rules: "every=2:internal"})
	strptr := func(s string) *string { return &s }

	// The one connection of the fixture is accepted by its first call.
	if got := f.mustGetStats(ctx, t).GetConn(); !proto.Equal(got, &adminpb.ConnStats{Accepted: 1}) {
		t.Errorf("GetStats().conn = %v, want accepted: 1", got)
	}
	rules := f.mustGetRules(ctx, t)
	if rules.ConnSpec == nil || rules.GetConnSpec() != "" {
		t.Errorf("GetRules().conn_spec = %v, want present and empty", rules.ConnSpec)
	}

	// Connection faults alone: the rules stay.
	req := &adminpb.SetRulesRequest{ConnSpec: strptr("refuse=100%")}
	got := f.mustSetRules(ctx, t, req)
	if got.GetConnSpec() != "refuse=100%" || got.GetSpec() != rules.GetSpec() {
		t.Errorf("SetRules(%v) = %v, want conn_spec %q and spec %q", req, got, "refuse=100%", rules.GetSpec())
	}
	if want := (faultinject.ConnFaults{Refuse: 100}); f.lis.Faults() != want {
		t.Errorf("Listener.Faults() = %+v, want %+v", f.lis.Faults(), want)
	}
	refused := f.srv.Dial(t)
	_, err := pb.NewRouteGuideClient(refused).GetFeature(ctx, lighthouse)
	if got := status.Code(err); got != codes.Unavailable {
		t.Errorf("GetFeature() over a new connection = %v, want code %v", err, codes.Unavailable)
	}
	if got := f.mustGetStats(ctx, t).GetConn(); got.GetRefused() < 1 || got.GetAccepted() < 2 {
		t.Errorf("GetStats().conn = %v, want refused >= 1 and accepted >= 2", got)
	}
	_ = refused.Close() // stop its reconnecting

	// A bad conn_spec changes neither part.
	before := f.mustGetRules(ctx, t)
	req = &adminpb.SetRulesRequest{Rules: &adminpb.SetRulesRequest_Spec{Spec: "unavailable"}, ConnSpec: strptr("refuse=lots")}
	_, err = f.admin.SetRules(ctx, req)
	_, parseErr := faultinject.ParseConnSpec("refuse=lots")
	if status.Code(err) != codes.InvalidArgument || parseErr == nil || status.Convert(err).Message() != parseErr.Error() {
		t.Errorf("SetRules(%v) = %v, want code %v with the parse error %v", req, err, codes.InvalidArgument, parseErr)
	}
	if got := f.mustGetRules(ctx, t); !proto.Equal(got, before) {
		t.Errorf("GetRules() after the refused SetRules(%v) = %v, want unchanged %v", req, got, before)
	}

	// Both at once: the rules change and new connections get through.
	req = &adminpb.SetRulesRequest{Rules: &adminpb.SetRulesRequest_Spec{Spec: "unavailable"}, ConnSpec: strptr("")}
	got = f.mustSetRules(ctx, t, req)
	if got.GetSpec() != "unavailable" || got.ConnSpec == nil || got.GetConnSpec() != "" {
		t.Errorf("SetRules(%v) = %v, want spec \"unavailable\" and an empty conn_spec", req, got)
	}
	_, err = pb.NewRouteGuideClient(f.srv.Dial(t)).GetFeature(ctx, lighthouse)
	if got := status.Code(err); got != codes.Unavailable {
		t.Errorf("GetFeature() over a new connection = %v, want code %v from the injector", err, codes.Unavailable)
	}
	if st := f.mustGetStats(ctx, t); st.GetAbortsByCode()["UNAVAILABLE"] != 1 {
		t.Errorf("GetStats().aborts_by_code = %v, want UNAVAILABLE: 1 (the call reached the server)", st.GetAbortsByCode())
	}
}

// Concurrent SetRules calls apply one at a time: every answer of GetRules
// and SetRules holds the rules and connection faults of one request.
func TestSetRulesConcurrent(t *testing.T) {
	const writers, rounds = 4, 20
	ctx := testContext(t)
	f := start(t, setup{listener: true})
	// connFor maps each request's spec to its conn_spec.
	connFor := map[string]string{"": ""}
	for i := range writers {
		connFor[fmt.Sprintf("every=%d:internal", i+1)] = fmt.Sprintf("cut=%d", i+1)
	}
	check := func(r *adminpb.Rules) error {
		if want, ok := connFor[r.GetSpec()]; !ok || r.GetConnSpec() != want {
			return fmt.Errorf("answer %v mixes requests: want conn_spec %q", r, want)
		}
		return nil
	}

	errs := make(chan error, 2*writers*rounds)
	var wg sync.WaitGroup
	for i := range writers {
		spec := fmt.Sprintf("every=%d:internal", i+1)
		conn := connFor[spec]
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range rounds {
				r, err := f.admin.SetRules(ctx, &adminpb.SetRulesRequest{Rules: &adminpb.SetRulesRequest_Spec{Spec: spec}, ConnSpec: &conn})
				if err == nil {
					err = check(r)
				}
				if err != nil {
					errs <- fmt.Errorf("SetRules(%q, %q): %w", spec, conn, err)
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range rounds {
				r, err := f.admin.GetRules(ctx, &adminpb.GetRulesRequest{})
				if err == nil {
					err = check(r)
				}
				if err != nil {
					errs <- fmt.Errorf("GetRules(): %w", err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Exempt(nil) passes every call to its handler, admin or not.
func TestExemptNil(t *testing.T) {
	ctx := testContext(t)
	handler := func(context.Context, any) (any, error) { return "handled", nil }
	for _, method := range []string{
		adminpb.FaultAdmin_GetStats_FullMethodName,
		"/routeguide.RouteGuide/GetFeature",
	} {
		got, err := admin.Exempt(nil)(ctx, nil, &grpc.UnaryServerInfo{FullMethod: method}, handler)
		if got != "handled" || err != nil {
			t.Errorf("Exempt(nil)(%s) = %v, %v, want handled, nil", method, got, err)
		}
	}
}
