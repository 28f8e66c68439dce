package admin_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/faultinject"
	"github.com/resilience-go/grpc-resilience/faultinject/admin"
	"github.com/resilience-go/grpc-resilience/faultinject/adminpb"
	"github.com/resilience-go/grpc-resilience/internal/stubserver"
)

// newInjector returns an injector with no rules.
func newInjector(t *testing.T) *faultinject.Injector {
	t.Helper()
	in, err := faultinject.New(nil, faultinject.WithSeed(1))
	if err != nil {
		t.Fatalf("faultinject.New(nil) = %v, want nil error", err)
	}
	return in
}

// startAdmin serves the admin service built with opts, for a fresh
// injector, over bufconn; the default connection sends no credentials.
func startAdmin(t *testing.T, h stubserver.Handlers, opts ...admin.Option) (*stubserver.Server, *faultinject.Injector) {
	t.Helper()
	in := newInjector(t)
	var registerErr error
	ss := stubserver.Start(t, h, stubserver.WithRegister(func(r grpc.ServiceRegistrar) {
		registerErr = admin.Register(r, in, opts...)
	}))
	if registerErr != nil {
		t.Fatalf("admin.Register() = %v, want nil error", registerErr)
	}
	return ss, in
}

// adminCall is one call of each FaultAdmin method, with a request that an
// authenticated caller gets OK for: SetRules sets one rule.
type adminCall struct {
	name string
	call func(ctx context.Context, c adminpb.FaultAdminClient, opts ...grpc.CallOption) error
}

var adminCalls = []adminCall{
	{"GetStats", func(ctx context.Context, c adminpb.FaultAdminClient, opts ...grpc.CallOption) error {
		_, err := c.GetStats(ctx, &adminpb.GetStatsRequest{}, opts...)
		return err
	}},
	{"GetRules", func(ctx context.Context, c adminpb.FaultAdminClient, opts ...grpc.CallOption) error {
		_, err := c.GetRules(ctx, &adminpb.GetRulesRequest{}, opts...)
		return err
	}},
	{"SetRules", func(ctx context.Context, c adminpb.FaultAdminClient, opts ...grpc.CallOption) error {
		_, err := c.SetRules(ctx, specReq("internal"), opts...)
		return err
	}},
}

// checkCalls makes every adminCall and checks its code, that no message
// holds a token of tokens, and that the rules changed only if the calls
// were let through.
func checkCalls(ctx context.Context, t *testing.T, c adminpb.FaultAdminClient, in *faultinject.Injector, want codes.Code, tokens []string, opts ...grpc.CallOption) {
	t.Helper()
	for _, ac := range adminCalls {
		err := ac.call(ctx, c, opts...)
		if got := status.Code(err); got != want {
			t.Errorf("%s() = %v, want code %v", ac.name, err, want)
		}
		for _, tok := range tokens {
			if tok != "" && strings.Contains(status.Convert(err).Message(), tok) {
				t.Errorf("%s() message %q holds the token %q, want it kept out", ac.name, status.Convert(err).Message(), tok)
			}
		}
	}
	wantRules := 0
	if want == codes.OK {
		wantRules = 1
	}
	if got := len(in.Rules()); got != wantRules {
		t.Errorf("len(Injector.Rules()) after SetRules(internal) = %d, want %d", got, wantRules)
	}
}

// TestAuthentication calls every method over bufconn (plaintext, so no
// client certificate) for each configuration of the server and each kind
// of caller.
func TestAuthentication(t *testing.T) {
	const other = "other-token-81c4"
	bearer := func(tok string) []string { return []string{"authorization", "Bearer " + tok} }
	tests := []struct {
		name  string
		opts  []admin.Option
		creds credentials.PerRPCCredentials // sent with grpc.PerRPCCredentials
		md    []string                      // sent as outgoing metadata
		want  codes.Code
	}{
		{name: "no option, no credentials", want: codes.Unauthenticated},
		{name: "no option, a token", creds: admin.InsecureBearerToken(testToken), want: codes.Unauthenticated},
		{name: "no option, listener only", opts: []admin.Option{admin.WithListener(nil)}, md: bearer(testToken), want: codes.Unauthenticated},
		{name: "without authentication, no credentials", opts: []admin.Option{admin.WithoutAuthentication()}, want: codes.OK},
		{name: "without authentication, a token", opts: []admin.Option{admin.WithoutAuthentication()}, md: bearer(other), want: codes.OK},

		{name: "token, no credentials", opts: []admin.Option{admin.WithBearerToken(testToken)}, want: codes.Unauthenticated},
		{name: "token, right token", opts: []admin.Option{admin.WithBearerToken(testToken)}, creds: admin.InsecureBearerToken(testToken), want: codes.OK},
		{name: "token, wrong token", opts: []admin.Option{admin.WithBearerToken(testToken)}, creds: admin.InsecureBearerToken(other), want: codes.Unauthenticated},
		{name: "token, its prefix", opts: []admin.Option{admin.WithBearerToken(testToken)}, creds: admin.InsecureBearerToken(testToken[:len(testToken)-1]), want: codes.Unauthenticated},
		{name: "token, longer", opts: []admin.Option{admin.WithBearerToken(testToken)}, creds: admin.InsecureBearerToken(testToken + "0"), want: codes.Unauthenticated},
		{name: "token, other case", opts: []admin.Option{admin.WithBearerToken(testToken)}, creds: admin.InsecureBearerToken(strings.ToUpper(testToken)), want: codes.Unauthenticated},
		{name: "token, scheme in lower case", opts: []admin.Option{admin.WithBearerToken(testToken)}, md: []string{"authorization", "bearer " + testToken}, want: codes.OK},
		{name: "token, other scheme", opts: []admin.Option{admin.WithBearerToken(testToken)}, md: []string{"authorization", "Basic " + testToken}, want: codes.Unauthenticated},
		{name: "token, no scheme", opts: []admin.Option{admin.WithBearerToken(testToken)}, md: []string{"authorization", testToken}, want: codes.Unauthenticated},
		{name: "token, scheme alone", opts: []admin.Option{admin.WithBearerToken(testToken)}, md: []string{"authorization", "Bearer"}, want: codes.Unauthenticated},
		{name: "token, other key", opts: []admin.Option{admin.WithBearerToken(testToken)}, md: []string{"x-admin-token", testToken}, want: codes.Unauthenticated},
		{name: "token, sent twice", opts: []admin.Option{admin.WithBearerToken(testToken)}, md: append(bearer(testToken), bearer(testToken)...), want: codes.Unauthenticated},
		{name: "token, wrong and right", opts: []admin.Option{admin.WithBearerToken(testToken)}, md: append(bearer(other), bearer(testToken)...), want: codes.Unauthenticated},
		{name: "token, metadata and credentials", opts: []admin.Option{admin.WithBearerToken(testToken)}, md: bearer(testToken), creds: admin.InsecureBearerToken(testToken), want: codes.Unauthenticated},
		{name: "last token wins, last", opts: []admin.Option{admin.WithBearerToken(other), admin.WithBearerToken(testToken)}, creds: admin.InsecureBearerToken(testToken), want: codes.OK},
		{name: "last token wins, first", opts: []admin.Option{admin.WithBearerToken(other), admin.WithBearerToken(testToken)}, creds: admin.InsecureBearerToken(other), want: codes.Unauthenticated},
		{name: "empty token then a token", opts: []admin.Option{admin.WithBearerToken(""), admin.WithBearerToken(testToken)}, creds: admin.InsecureBearerToken(testToken), want: codes.OK},

		// A connection without TLS has no client certificate.
		{name: "certificate, no TLS", opts: []admin.Option{admin.WithClientCertificate()}, want: codes.Unauthenticated},
		{name: "token and certificate, token without TLS", opts: []admin.Option{admin.WithBearerToken(testToken), admin.WithClientCertificate()},
			creds: admin.InsecureBearerToken(testToken), want: codes.Unauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			ss, in := startAdmin(t, stubserver.Handlers{}, tt.opts...)
			if len(tt.md) > 0 {
				ctx = metadata.AppendToOutgoingContext(ctx, tt.md...)
			}
			var opts []grpc.CallOption
			if tt.creds != nil {
				opts = append(opts, grpc.PerRPCCredentials(tt.creds))
			}
			checkCalls(ctx, t, adminpb.NewFaultAdminClient(ss.Conn()), in, tt.want, []string{testToken, other}, opts...)
		})
	}
}

// With no authentication option, the refusal names the options that would
// open the service.
func TestNoAuthenticationNamesOptions(t *testing.T) {
	ctx := testContext(t)
	srv, err := admin.NewServer(newInjector(t))
	if err != nil {
		t.Fatalf("NewServer(in) = %v, want nil error", err)
	}
	_, err = srv.GetStats(ctx, &adminpb.GetStatsRequest{})
	if got := status.Code(err); got != codes.Unauthenticated {
		t.Errorf("NewServer(in).GetStats() = %v, want code %v", err, codes.Unauthenticated)
	}
	for _, want := range []string{"WithBearerToken", "WithClientCertificate", "WithoutAuthentication"} {
		if !strings.Contains(status.Convert(err).Message(), want) {
			t.Errorf("NewServer(in).GetStats() = %v, want a message naming admin.%s", err, want)
		}
	}
}

// Every method of the service, present and future, refuses a caller
// without credentials: the calls go by the service descriptor, with an
// empty message, which every request type decodes.
func TestEveryMethodAuthenticates(t *testing.T) {
	ctx := testContext(t)
	ss, _ := startAdmin(t, stubserver.Handlers{}, admin.WithBearerToken(testToken))
	desc := adminpb.FaultAdmin_ServiceDesc
	if len(desc.Streams) != 0 {
		t.Errorf("FaultAdmin has %d streaming methods, want none: extend this test to them", len(desc.Streams))
	}
	for _, m := range desc.Methods {
		method := "/" + desc.ServiceName + "/" + m.MethodName
		err := ss.Conn().Invoke(ctx, method, &emptypb.Empty{}, &emptypb.Empty{})
		if got := status.Code(err); got != codes.Unauthenticated {
			t.Errorf("Invoke(%s) without a token = %v, want code %v", method, err, codes.Unauthenticated)
		}
	}
}

// Called in process, the service reads the credentials from the context
// it is given, as it would from a connection.
func TestAuthenticationInProcess(t *testing.T) {
	leaf := newTestPKI(t).runner.Leaf
	tlsPeer := &peer.Peer{AuthInfo: credentials.TLSInfo{State: tls.ConnectionState{
		PeerCertificates: []*x509.Certificate{leaf},
		VerifiedChains:   [][]*x509.Certificate{{leaf}},
	}}}
	unverifiedPeer := &peer.Peer{AuthInfo: credentials.TLSInfo{State: tls.ConnectionState{
		PeerCertificates: []*x509.Certificate{leaf},
	}}}
	withToken := func(ctx context.Context, tok string) context.Context {
		return metadata.NewIncomingContext(ctx, metadata.Pairs("authorization", "Bearer "+tok))
	}
	tests := []struct {
		name string
		opts []admin.Option
		ctx  func(context.Context) context.Context
		want codes.Code
	}{
		{"token, bare context", []admin.Option{admin.WithBearerToken(testToken)}, func(ctx context.Context) context.Context { return ctx }, codes.Unauthenticated},
		{"token, in the context", []admin.Option{admin.WithBearerToken(testToken)}, func(ctx context.Context) context.Context { return withToken(ctx, testToken) }, codes.OK},
		{"certificate, bare context", []admin.Option{admin.WithClientCertificate()}, func(ctx context.Context) context.Context { return ctx }, codes.Unauthenticated},
		{"certificate, verified peer", []admin.Option{admin.WithClientCertificate("chaos-runner")}, func(ctx context.Context) context.Context { return peer.NewContext(ctx, tlsPeer) }, codes.OK},
		{"certificate, unverified peer", []admin.Option{admin.WithClientCertificate()}, func(ctx context.Context) context.Context { return peer.NewContext(ctx, unverifiedPeer) }, codes.Unauthenticated},
		{"certificate, verified peer, other name", []admin.Option{admin.WithClientCertificate("intruder")}, func(ctx context.Context) context.Context { return peer.NewContext(ctx, tlsPeer) }, codes.PermissionDenied},
		{"without authentication", []admin.Option{admin.WithoutAuthentication()}, func(ctx context.Context) context.Context { return ctx }, codes.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := admin.NewServer(newInjector(t), tt.opts...)
			if err != nil {
				t.Fatalf("NewServer() = %v, want nil error", err)
			}
			_, err = srv.GetRules(tt.ctx(testContext(t)), &adminpb.GetRulesRequest{})
			if got := status.Code(err); got != tt.want {
				t.Errorf("GetRules() = %v, want code %v", err, tt.want)
			}
		})
	}
}

// An invalid configuration is an error of NewServer and Register that
// names the option and not the token; Register then registers nothing.
func TestInvalidOptions(t *testing.T) {
	const secret = "SECRET"
	tests := []struct {
		name     string
		opts     []admin.Option
		wantName string
	}{
		{"empty token", []admin.Option{admin.WithBearerToken("")}, "WithBearerToken"},
		{"token with a space", []admin.Option{admin.WithBearerToken("my " + secret)}, "WithBearerToken"},
		{"token with a newline", []admin.Option{admin.WithBearerToken(secret + "\n")}, "WithBearerToken"},
		{"token with a tab", []admin.Option{admin.WithBearerToken("\t" + secret)}, "WithBearerToken"},
		{"token not ASCII", []admin.Option{admin.WithBearerToken(secret + "é")}, "WithBearerToken"},
		{"token too long", []admin.Option{admin.WithBearerToken(secret + strings.Repeat("x", admin.MaxTokenLen))}, "WithBearerToken"},
		{"good token then empty", []admin.Option{admin.WithBearerToken(secret), admin.WithBearerToken("")}, "WithBearerToken"},
		{"empty name", []admin.Option{admin.WithClientCertificate("")}, "WithClientCertificate"},
		{"second name empty", []admin.Option{admin.WithClientCertificate("chaos-runner", "")}, "WithClientCertificate"},
		{"none and token", []admin.Option{admin.WithoutAuthentication(), admin.WithBearerToken(secret)}, "WithoutAuthentication"},
		{"token and none", []admin.Option{admin.WithBearerToken(secret), admin.WithoutAuthentication()}, "WithoutAuthentication"},
		{"none and certificate", []admin.Option{admin.WithoutAuthentication(), admin.WithClientCertificate()}, "WithoutAuthentication"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := admin.NewServer(newInjector(t), tt.opts...)
			if err == nil || srv != nil {
				t.Fatalf("NewServer() = %v, %v, want nil and an error", srv, err)
			}
			if !strings.Contains(err.Error(), tt.wantName) {
				t.Errorf("NewServer() = %v, want an error naming %s", err, tt.wantName)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("NewServer() = %v, want an error without the token", err)
			}
			var registerErr error
			ss := stubserver.Start(t, stubserver.Handlers{}, stubserver.WithRegister(func(r grpc.ServiceRegistrar) {
				registerErr = admin.Register(r, newInjector(t), tt.opts...)
			}))
			if registerErr == nil || registerErr.Error() != err.Error() {
				t.Errorf("Register() = %v, want the error of NewServer, %v", registerErr, err)
			}
			_, err = adminpb.NewFaultAdminClient(ss.Conn()).GetStats(testContext(t), &adminpb.GetStatsRequest{})
			if got := status.Code(err); got != codes.Unimplemented {
				t.Errorf("GetStats() after a failed Register = %v, want code %v (nothing registered)", err, codes.Unimplemented)
			}
		})
	}
}

// startTLS serves the admin service built with opts, for a fresh injector,
// over TCP on 127.0.0.1 with TLS: the server's certificate from pki, and
// client certificates checked as clientAuth says against pki's CA.
func startTLS(t *testing.T, pki *testPKI, clientAuth tls.ClientAuthType, opts ...admin.Option) (string, *faultinject.Injector) {
	t.Helper()
	in := newInjector(t)
	gs := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{pki.server},
		ClientCAs:    pki.ca.pool,
		ClientAuth:   clientAuth,
		MinVersion:   tls.VersionTLS12,
	})))
	if err := admin.Register(gs, in, opts...); err != nil {
		t.Fatalf("admin.Register() = %v, want nil error", err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("net.Listen(tcp, 127.0.0.1:0) = %v, want nil error", err)
	}
	served := make(chan error, 1)
	go func() { served <- gs.Serve(lis) }()
	t.Cleanup(func() {
		gs.Stop()
		if err := <-served; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			t.Errorf("Serve(%s) = %v, want nil after Stop", lis.Addr(), err)
		}
	})
	return lis.Addr().String(), in
}

// dialTLS connects to addr over TLS, trusting pki's CA, presenting cert if
// it is not nil; the connection is closed in t.Cleanup.
func dialTLS(t *testing.T, addr string, pki *testPKI, cert *tls.Certificate, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	cfg := &tls.Config{RootCAs: pki.ca.pool, MinVersion: tls.VersionTLS12}
	if cert != nil {
		// Presented whatever CAs the server asks for, as a hostile client
		// would: with Certificates, crypto/tls would keep back a
		// certificate of another CA.
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	conn, err := grpc.NewClient(addr, append(opts, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))...)
	if err != nil {
		t.Fatalf("grpc.NewClient(%s, TLS) = %v, want nil error", addr, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// TestClientCertificate calls every method over real TCP and TLS with
// the client certificates of a test PKI: the server verifies them (or
// not) as its tls.Config says, and the service checks what was verified.
func TestClientCertificate(t *testing.T) {
	pki := newTestPKI(t)
	const runner = "runner.chaos.test"
	tests := []struct {
		name       string
		clientAuth tls.ClientAuthType
		opts       []admin.Option
		cert       *tls.Certificate
		token      string // sent with BearerToken when not empty
		want       codes.Code
	}{
		{"right certificate", tls.RequireAndVerifyClientCert, []admin.Option{admin.WithClientCertificate(runner)}, &pki.runner, "", codes.OK},
		{"certificate naming another", tls.RequireAndVerifyClientCert, []admin.Option{admin.WithClientCertificate(runner)}, &pki.intruder, "", codes.PermissionDenied},
		// crypto/tls refuses these before any call reaches the service.
		{"no certificate, TLS requires one", tls.RequireAndVerifyClientCert, []admin.Option{admin.WithClientCertificate(runner)}, nil, "", codes.Unavailable},
		{"certificate of another CA, TLS verifies", tls.RequireAndVerifyClientCert, []admin.Option{admin.WithClientCertificate(runner)}, &pki.forged, "", codes.Unavailable},
		// crypto/tls lets these through; the service refuses them.
		{"no certificate, TLS verifies one if given", tls.VerifyClientCertIfGiven, []admin.Option{admin.WithClientCertificate(runner)}, nil, "", codes.Unauthenticated},
		{"certificate of another CA, TLS does not verify", tls.RequireAnyClientCert, []admin.Option{admin.WithClientCertificate(runner)}, &pki.forged, "", codes.Unauthenticated},
		{"right certificate, TLS does not verify", tls.RequireAnyClientCert, []admin.Option{admin.WithClientCertificate()}, &pki.runner, "", codes.Unauthenticated},

		{"no names, any verified certificate", tls.RequireAndVerifyClientCert, []admin.Option{admin.WithClientCertificate()}, &pki.intruder, "", codes.OK},
		{"name as the common name", tls.RequireAndVerifyClientCert, []admin.Option{admin.WithClientCertificate("chaos-runner")}, &pki.runner, "", codes.OK},
		{"name in another case", tls.RequireAndVerifyClientCert, []admin.Option{admin.WithClientCertificate("RUNNER.Chaos.Test")}, &pki.runner, "", codes.OK},
		{"second name matches", tls.RequireAndVerifyClientCert, []admin.Option{admin.WithClientCertificate("ops.chaos.test", runner)}, &pki.runner, "", codes.OK},
		{"no wildcard matching", tls.RequireAndVerifyClientCert, []admin.Option{admin.WithClientCertificate("*.chaos.test")}, &pki.runner, "", codes.PermissionDenied},
		{"last names win", tls.RequireAndVerifyClientCert, []admin.Option{admin.WithClientCertificate("intruder"), admin.WithClientCertificate(runner)}, &pki.intruder, "", codes.PermissionDenied},

		// Token and certificate: both are required, then the names.
		{"both, both right", tls.RequireAndVerifyClientCert, []admin.Option{admin.WithBearerToken(testToken), admin.WithClientCertificate(runner)}, &pki.runner, testToken, codes.OK},
		{"both, certificate without token", tls.RequireAndVerifyClientCert, []admin.Option{admin.WithBearerToken(testToken), admin.WithClientCertificate(runner)}, &pki.runner, "", codes.Unauthenticated},
		{"both, certificate with wrong token", tls.RequireAndVerifyClientCert, []admin.Option{admin.WithBearerToken(testToken), admin.WithClientCertificate(runner)}, &pki.runner, "wrong-token", codes.Unauthenticated},
		{"both, token without certificate", tls.VerifyClientCertIfGiven, []admin.Option{admin.WithBearerToken(testToken), admin.WithClientCertificate(runner)}, nil, testToken, codes.Unauthenticated},
		{"both, other name without token", tls.RequireAndVerifyClientCert, []admin.Option{admin.WithBearerToken(testToken), admin.WithClientCertificate(runner)}, &pki.intruder, "", codes.Unauthenticated},
		{"both, other name with token", tls.RequireAndVerifyClientCert, []admin.Option{admin.WithBearerToken(testToken), admin.WithClientCertificate(runner)}, &pki.intruder, testToken, codes.PermissionDenied},

		// BearerToken, which requires transport security, goes over TLS.
		{"token over TLS", tls.NoClientCert, []admin.Option{admin.WithBearerToken(testToken)}, nil, testToken, codes.OK},
		{"token over TLS, wrong token", tls.NoClientCert, []admin.Option{admin.WithBearerToken(testToken)}, nil, "wrong-token", codes.Unauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			addr, in := startTLS(t, pki, tt.clientAuth, tt.opts...)
			var dopts []grpc.DialOption
			if tt.token != "" {
				dopts = append(dopts, grpc.WithPerRPCCredentials(admin.BearerToken(tt.token)))
			}
			conn := dialTLS(t, addr, pki, tt.cert, dopts...)
			checkCalls(ctx, t, adminpb.NewFaultAdminClient(conn), in, tt.want, []string{testToken, tt.token})
		})
	}
}

// BearerToken requires transport security, as grpc-go enforces it;
// InsecureBearerToken does not.
func TestBearerTokenTransportSecurity(t *testing.T) {
	if !admin.BearerToken(testToken).RequireTransportSecurity() {
		t.Errorf("BearerToken().RequireTransportSecurity() = false, want true")
	}
	if admin.InsecureBearerToken(testToken).RequireTransportSecurity() {
		t.Errorf("InsecureBearerToken().RequireTransportSecurity() = true, want false")
	}

	ctx := testContext(t)
	ss, in := startAdmin(t, stubserver.Handlers{}, admin.WithBearerToken(testToken))
	conn, err := grpc.NewClient(ss.Target(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(admin.BearerToken(testToken)))
	if err == nil {
		conn.Close()
		t.Errorf("grpc.NewClient(insecure, WithPerRPCCredentials(BearerToken)) = nil error, want an error")
	}
	// As a call option, the call fails before it is sent.
	checkCalls(ctx, t, adminpb.NewFaultAdminClient(ss.Conn()), in, codes.Unauthenticated, []string{testToken},
		grpc.PerRPCCredentials(admin.BearerToken(testToken)))
	if got := in.Stats(); got.Calls != 0 {
		t.Errorf("Injector.Stats().Calls = %d, want 0", got.Calls)
	}
}

// The token goes with the FaultAdmin calls of a connection and with no
// other call on it.
func TestBearerTokenOnlyAdminCalls(t *testing.T) {
	ctx := testContext(t)
	seen := make(chan []string, 1)
	ss, _ := startAdmin(t, stubserver.Handlers{GetFeature: func(ctx context.Context, _ *pb.Point) (*pb.Feature, error) {
		seen <- metadata.ValueFromIncomingContext(ctx, "authorization")
		return &pb.Feature{}, nil
	}}, admin.WithBearerToken(testToken))
	conn := ss.Dial(t, grpc.WithPerRPCCredentials(admin.InsecureBearerToken(testToken)))

	if _, err := adminpb.NewFaultAdminClient(conn).GetStats(ctx, &adminpb.GetStatsRequest{}); err != nil {
		t.Errorf("GetStats() with InsecureBearerToken on the connection = %v, want nil error", err)
	}
	if _, err := pb.NewRouteGuideClient(conn).GetFeature(ctx, lighthouse); err != nil {
		t.Fatalf("GetFeature() = %v, want nil error", err)
	}
	if got := <-seen; len(got) != 0 {
		t.Errorf("GetFeature() saw authorization %q, want none", got)
	}
}

// A token the server would refuse is never sent: every FaultAdmin call
// fails on the client with UNAUTHENTICATED, other calls go on.
func TestBearerTokenInvalidOnClient(t *testing.T) {
	for _, tok := range []string{"", "two words", "line\n", strings.Repeat("x", admin.MaxTokenLen+1)} {
		t.Run(fmt.Sprintf("%.10q", tok), func(t *testing.T) {
			ctx := testContext(t)
			ss, in := startAdmin(t, stubserver.Handlers{}, admin.WithoutAuthentication())
			conn := ss.Dial(t, grpc.WithPerRPCCredentials(admin.InsecureBearerToken(tok)))
			checkCalls(ctx, t, adminpb.NewFaultAdminClient(conn), in, codes.Unauthenticated, []string{tok})
			if _, err := pb.NewRouteGuideClient(conn).GetFeature(ctx, lighthouse); err != nil {
				t.Errorf("GetFeature() = %v, want nil error", err)
			}
		})
	}
}

// GetRequestMetadata gives the authorization metadata for FaultAdmin
// methods only, and an error for a bad token, in both variants.
func TestBearerTokenRequestMetadata(t *testing.T) {
	ctx := testContext(t)
	adminCtx := credentials.NewContextWithRequestInfo(ctx, credentials.RequestInfo{Method: adminpb.FaultAdmin_SetRules_FullMethodName})
	otherCtx := credentials.NewContextWithRequestInfo(ctx, credentials.RequestInfo{Method: "/routeguide.RouteGuide/GetFeature"})
	lookalikeCtx := credentials.NewContextWithRequestInfo(ctx, credentials.RequestInfo{Method: "/" + adminpb.FaultAdmin_ServiceDesc.ServiceName + "X/GetStats"})
	for _, variant := range []struct {
		name string
		make func(string) credentials.PerRPCCredentials
	}{{"BearerToken", admin.BearerToken}, {"InsecureBearerToken", admin.InsecureBearerToken}} {
		tests := []struct {
			name    string
			ctx     context.Context
			token   string
			want    map[string]string
			wantErr bool
		}{
			{"admin method", adminCtx, testToken, map[string]string{"authorization": "Bearer " + testToken}, false},
			{"other method", otherCtx, testToken, nil, false},
			{"service name prefix", lookalikeCtx, testToken, nil, false},
			{"no request info", ctx, testToken, nil, false},
			{"empty token, admin method", adminCtx, "", nil, true},
			{"token with a space, admin method", adminCtx, "a b", nil, true},
			{"empty token, other method", otherCtx, "", nil, false},
		}
		for _, tt := range tests {
			got, err := variant.make(tt.token).GetRequestMetadata(tt.ctx)
			if (err != nil) != tt.wantErr || fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("%s(%q).GetRequestMetadata(%s) = %v, %v, want %v and error %t", variant.name, tt.token, tt.name, got, err, tt.want, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), variant.name) {
				t.Errorf("%s(%q).GetRequestMetadata(%s) = %v, want an error naming %s", variant.name, tt.token, tt.name, err, variant.name)
			}
		}
	}
}

// The credentials never print their token.
func TestBearerTokenRedacted(t *testing.T) {
	for _, creds := range []credentials.PerRPCCredentials{admin.BearerToken(testToken), admin.InsecureBearerToken(testToken)} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			if got := fmt.Sprintf(verb, creds); strings.Contains(got, testToken) || !strings.Contains(got, "REDACTED") {
				t.Errorf("fmt.Sprintf(%q, %T) = %q, want REDACTED and no token", verb, creds, got)
			}
		}
	}
}
