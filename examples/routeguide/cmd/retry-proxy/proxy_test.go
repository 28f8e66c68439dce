package main

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/examples/routeguide/server"
	"github.com/resilience-go/grpc-resilience/faultinject"
	"github.com/resilience-go/grpc-resilience/internal/stubserver"
)

// The A6 service configs of the table tests: three attempts of every route
// guide method, retried or hedged on UNAVAILABLE. The hedging delay is
// long, so only the non-fatal code sends the next hedge.
const (
	a6Retry = `{"methodConfig":[{"name":[{"service":"routeguide.RouteGuide"}],
		"retryPolicy":{"maxAttempts":3,"initialBackoff":"0.001s","maxBackoff":"0.01s",
		"backoffMultiplier":2,"retryableStatusCodes":["UNAVAILABLE"]}}]}`
	a6Hedge = `{"methodConfig":[{"name":[{"service":"routeguide.RouteGuide"}],
		"hedgingPolicy":{"maxAttempts":3,"hedgingDelay":"100s","nonFatalStatusCodes":["UNAVAILABLE"]}}]}`
)

// features is the embedded database: every point of the route, and all the
// features of the rectangle around them.
var features = server.New().Features()

// kind is one route guide call and what it returned, as messages.
type kind struct {
	name string
	call func(ctx context.Context, c pb.RouteGuideClient) ([]proto.Message, error)
	// spec makes the first two attempts of every call of this kind fail
	// with UNAVAILABLE before the call commits; for the streams with
	// requests, after the handler has read two of them, so that a retry
	// must send them all again.
	spec string
}

var kinds = []kind{
	{"unary", getFeature, "first=2:unavailable"},
	{"server-stream", listFeatures, "first=2:unavailable"},
	{"client-stream", recordRoute, "first=2:unavailable+recv=2"},
	{"bidi", batchChat, "first=2:unavailable+recv=2"},
}

func getFeature(ctx context.Context, c pb.RouteGuideClient) ([]proto.Message, error) {
	f, err := c.GetFeature(ctx, features[0].GetLocation())
	if err != nil {
		return nil, err
	}
	return []proto.Message{f}, nil
}

// listFeatures lists the features inside allFeatures: all of them.
func listFeatures(ctx context.Context, c pb.RouteGuideClient) ([]proto.Message, error) {
	stream, err := c.ListFeatures(ctx, allFeatures())
	if err != nil {
		return nil, err
	}
	var got []proto.Message
	for {
		f, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		got = append(got, f)
	}
}

// allFeatures returns the box around every feature of the database.
func allFeatures() *pb.Rectangle {
	lo := proto.Clone(features[0].GetLocation()).(*pb.Point)
	hi := proto.Clone(lo).(*pb.Point)
	for _, f := range features {
		lo.Latitude, hi.Latitude = min(lo.Latitude, f.GetLocation().GetLatitude()), max(hi.Latitude, f.GetLocation().GetLatitude())
		lo.Longitude, hi.Longitude = min(lo.Longitude, f.GetLocation().GetLongitude()), max(hi.Longitude, f.GetLocation().GetLongitude())
	}
	return &pb.Rectangle{Lo: lo, Hi: hi}
}

// recordRoute records a route through every feature.
func recordRoute(ctx context.Context, c pb.RouteGuideClient) ([]proto.Message, error) {
	stream, err := c.RecordRoute(ctx)
	if err != nil {
		return nil, err
	}
	for _, f := range features {
		if err := stream.Send(f.GetLocation()); err != nil {
			break // the status comes from CloseAndRecv
		}
	}
	sum, err := stream.CloseAndRecv()
	if err != nil {
		return nil, err
	}
	return []proto.Message{sum}, nil
}

// batchChat sends a note for every feature, then reads what batchHandler
// answers.
func batchChat(ctx context.Context, c pb.RouteGuideClient) ([]proto.Message, error) {
	stream, err := c.RouteChat(ctx)
	if err != nil {
		return nil, err
	}
	for _, f := range features {
		if err := stream.Send(&pb.RouteNote{Location: f.GetLocation(), Message: f.GetName()}); err != nil {
			break // the status comes from Recv
		}
	}
	if err := stream.CloseSend(); err != nil {
		return nil, err
	}
	var got []proto.Message
	for {
		n, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		got = append(got, n)
	}
}

// batchHandler is a RouteChat with no state across calls: it reads every
// note until the client half-closes, then sends them back, last first.
// Nothing is sent, and so nothing commits, before the half-close.
func batchHandler(s grpc.BidiStreamingServer[pb.RouteNote, pb.RouteNote]) error {
	var notes []*pb.RouteNote
	for {
		n, err := s.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		notes = append(notes, n)
	}
	for _, n := range slices.Backward(notes) {
		if err := s.Send(n); err != nil {
			return err
		}
	}
	return nil
}

// echoHandler answers each note at once with a copy of it.
func echoHandler(s grpc.BidiStreamingServer[pb.RouteNote, pb.RouteNote]) error {
	for {
		n, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := s.Send(&pb.RouteNote{Location: n.GetLocation(), Message: "echo: " + n.GetMessage()}); err != nil {
			return err
		}
	}
}

// startUpstream serves the route guide on 127.0.0.1, RouteChat by
// batchHandler unless h says otherwise, behind a fault injector with spec
// and seed 1.
func startUpstream(t *testing.T, spec string, h stubserver.Handlers) (*faultinject.Injector, *stubserver.Server) {
	t.Helper()
	rules, err := faultinject.ParseSpec(spec)
	if err != nil {
		t.Fatalf("faultinject.ParseSpec(%q) = %v", spec, err)
	}
	in, err := faultinject.New(rules, faultinject.WithSeed(1))
	if err != nil {
		t.Fatalf("faultinject.New(%q) = %v", spec, err)
	}
	if h.RouteChat == nil {
		h.RouteChat = batchHandler
	}
	srv := stubserver.StartTCP(t, h, stubserver.WithServerOptions(
		grpc.ChainUnaryInterceptor(in.UnaryServerInterceptor()),
		grpc.ChainStreamInterceptor(in.StreamServerInterceptor()),
	))
	return in, srv
}

// proxyUnderTest is a running proxy and a plain client connection to it.
type proxyUnderTest struct {
	client pb.RouteGuideClient
	stop   func() string // stops the proxy as a signal would; returns its stdout
}

// stats stops the proxy and returns the counters of its stats line.
func (p *proxyUnderTest) stats(t *testing.T) string {
	t.Helper()
	out := p.stop()
	_, stats, ok := strings.Cut(out, "\n"+name+": stats: ")
	if !ok {
		t.Fatalf("the proxy printed %q, want a stats line when stopped", out)
	}
	return strings.TrimSuffix(stats, "\n")
}

// startProxy runs the proxy on 127.0.0.1 in front of upstream with the
// command-line args, and connects to it with a plain client (no
// interceptors) and opts. In t.Cleanup the proxy is stopped as by a
// signal, and must stop cleanly.
func startProxy(t *testing.T, upstream string, args []string, opts ...grpc.DialOption) *proxyUnderTest {
	t.Helper()
	args = append([]string{"--port", "0", "--upstream", upstream}, args...)
	cfg, err := parseFlags(args, io.Discard)
	if err != nil {
		t.Fatalf("parseFlags(%q) = %v", args, err)
	}
	lis, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		t.Fatalf("net.Listen(%s) = %v", cfg.addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stdout := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- serve(ctx, lis, cfg, stdout, io.Discard) }()
	stop := sync.OnceValue(func() string {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve(%q) = %v after its context ended, want nil", args, err)
		}
		return stdout.String()
	})
	t.Cleanup(func() { stop() })
	conn, err := grpc.NewClient(lis.Addr().String(),
		append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, opts...)...)
	if err != nil {
		t.Fatalf("grpc.NewClient(%s) = %v", lis.Addr(), err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &proxyUnderTest{client: pb.NewRouteGuideClient(conn), stop: stop}
}

// testContext returns a context that ends with the test or after
// stubserver.DefaultTimeout.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), stubserver.DefaultTimeout)
	t.Cleanup(cancel)
	return ctx
}

// ignoreElapsed compares route summaries without their elapsed time,
// which differs from call to call.
var ignoreElapsed = protocmp.IgnoreFields(&pb.RouteSummary{}, "elapsed_time")

// TestForwardAllKinds: every kind of call gets through the proxy with the
// same messages as straight from the server.
func TestForwardAllKinds(t *testing.T) {
	_, up := startUpstream(t, "", stubserver.Handlers{})
	p := startProxy(t, up.Target(), []string{"--retry-times", "2"})
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			ctx := testContext(t)
			want, err := k.call(ctx, up.Client())
			if err != nil {
				t.Fatalf("%s straight from the server = %v", k.name, err)
			}
			got, err := k.call(ctx, p.client)
			if err != nil {
				t.Fatalf("%s through the proxy = %v, want nil", k.name, err)
			}
			if diff := cmp.Diff(want, got, protocmp.Transform(), ignoreElapsed); diff != "" {
				t.Errorf("%s through the proxy returned a diff (-straight +proxied):\n%s", k.name, diff)
			}
		})
	}
}

// TestForwardInteractive: a bidi call through the proxy is interactive:
// each answer arrives before the client sends the next note.
func TestForwardInteractive(t *testing.T) {
	_, up := startUpstream(t, "", stubserver.Handlers{RouteChat: echoHandler})
	p := startProxy(t, up.Target(), []string{"--retry-times", "2"})
	stream, err := p.client.RouteChat(testContext(t))
	if err != nil {
		t.Fatalf("RouteChat = %v", err)
	}
	for _, f := range features[:3] {
		note := &pb.RouteNote{Location: f.GetLocation(), Message: f.GetName()}
		if err := stream.Send(note); err != nil {
			t.Fatalf("Send(%v) = %v", note, err)
		}
		got, err := stream.Recv()
		if err != nil {
			t.Fatalf("Recv() after Send(%v) = %v", note, err)
		}
		want := &pb.RouteNote{Location: f.GetLocation(), Message: "echo: " + f.GetName()}
		if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
			t.Errorf("Recv() after Send(%v) returned a diff (-want +got):\n%s", note, diff)
		}
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatalf("CloseSend() = %v", err)
	}
	if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
		t.Errorf("Recv() after CloseSend = %v, want io.EOF", err)
	}
}

// TestRetriesUnderFaults: where the server fails the first two attempts of
// every call, the direct call fails and the call through the proxy gets the
// same messages as a call to a healthy server, in each of the proxy's
// modes. For the streams with requests the attempts fail after the server
// read two of them, so the proxy must replay every request (and the
// half-close) from its interceptors' buffer.
func TestRetriesUnderFaults(t *testing.T) {
	dir := t.TempDir()
	configFile := func(name, js string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(js), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	modes := []struct {
		name string
		args []string
	}{
		{"manual", []string{"--retry-times", "2", "--retry-interval", "1ms"}},
		{"a6-retry", []string{"--service-config", configFile("retry.json", a6Retry)}},
		{"a6-hedge", []string{"--service-config", configFile("hedge.json", a6Hedge)}},
	}
	_, healthy := startUpstream(t, "", stubserver.Handlers{})
	for _, m := range modes {
		for _, k := range kinds {
			t.Run(m.name+"/"+k.name, func(t *testing.T) {
				ctx := testContext(t)
				want, err := k.call(ctx, healthy.Client())
				if err != nil {
					t.Fatalf("%s against a healthy server = %v", k.name, err)
				}
				in, up := startUpstream(t, k.spec, stubserver.Handlers{})
				if _, err := k.call(ctx, up.Client()); status.Code(err) != codes.Unavailable {
					t.Fatalf("%s straight from the server with %q = %v, want UNAVAILABLE", k.name, k.spec, err)
				}
				p := startProxy(t, up.Target(), m.args)
				got, err := k.call(ctx, p.client)
				if err != nil {
					t.Fatalf("%s through the proxy (%s) = %v, want nil", k.name, m.name, err)
				}
				if diff := cmp.Diff(want, got, protocmp.Transform(), ignoreElapsed); diff != "" {
					t.Errorf("%s through the proxy (%s) returned a diff (-healthy +proxied):\n%s", k.name, m.name, diff)
				}
				// One direct attempt, three through the proxy.
				st := in.Stats()
				if st.Calls != 4 || st.AbortsByCode[codes.Unavailable] != 3 {
					t.Errorf("server stats = %+v, want 4 calls of which 3 aborted UNAVAILABLE", st)
				}
				// Cut after requests: the proxy's retries resent them.
				if strings.Contains(k.spec, "recv=") && st.StreamAborts != 3 {
					t.Errorf("server stats = %+v, want 3 aborts after requests arrived", st)
				}
			})
		}
	}
}

// TestSeededFaults: with 30% of calls failing at random (seed 1), a run of
// calls straight to the server meets failures, and the same run through the
// proxy meets none.
func TestSeededFaults(t *testing.T) {
	const calls = 40
	in, up := startUpstream(t, "unavailable=30%", stubserver.Handlers{})
	p := startProxy(t, up.Target(), []string{"--retry-times", "9"})
	ctx := testContext(t)
	failures := func(c pb.RouteGuideClient) int {
		n := 0
		for range calls {
			if _, err := getFeature(ctx, c); err != nil {
				if status.Code(err) != codes.Unavailable {
					t.Fatalf("GetFeature = %v, want nil or UNAVAILABLE", err)
				}
				n++
			}
		}
		return n
	}
	if n := failures(up.Client()); n == 0 {
		t.Errorf("%d calls straight from the server: no failure, want some (stats %+v)", calls, in.Stats())
	}
	if n := failures(p.client); n != 0 {
		t.Errorf("%d calls through the proxy: %d failures, want none", calls, n)
	}
}

// TestCommittedNotRetried: a stream that fails after response messages
// arrived is committed: the proxy passes the messages and the failure
// through, with the response header, and does not retry it.
func TestCommittedNotRetried(t *testing.T) {
	in, up := startUpstream(t, "/routeguide.RouteGuide/ListFeatures:unavailable+after=2", stubserver.Handlers{})
	ctx := testContext(t)
	want, err := listFeatures(ctx, up.Client())
	if status.Code(err) != codes.Unavailable || len(want) == 0 {
		t.Fatalf("ListFeatures straight from the server = %d features, %v; want some, then UNAVAILABLE", len(want), err)
	}
	p := startProxy(t, up.Target(), []string{"--retry-times", "4"})
	stream, err := p.client.ListFeatures(ctx, allFeatures())
	if err != nil {
		t.Fatalf("ListFeatures = %v", err)
	}
	if header, err := stream.Header(); header == nil {
		t.Errorf("ListFeatures Header() = nil, %v; want the response header, which says the call committed", err)
	}
	var got []proto.Message
	for {
		f, err := stream.Recv()
		if err != nil {
			if status.Code(err) != codes.Unavailable {
				t.Errorf("ListFeatures Recv() = %v, want UNAVAILABLE", err)
			}
			break
		}
		got = append(got, f)
	}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("ListFeatures through the proxy returned a diff (-straight +proxied):\n%s", diff)
	}
	if st := in.Stats(); st.Calls != 2 || st.StreamAborts != 2 {
		t.Errorf("server stats = %+v, want 2 calls (direct and proxied), both aborted mid-stream, and no retry", st)
	}
}

// TestEarlyUpstreamEnd: an upstream call that ends while the client is
// still sending ends the proxied call with its status; the client's
// remaining requests go nowhere.
func TestEarlyUpstreamEnd(t *testing.T) {
	in, up := startUpstream(t, "/routeguide.RouteGuide/RecordRoute:invalid_argument+recv=2", stubserver.Handlers{})
	p := startProxy(t, up.Target(), []string{"--retry-times", "4"})
	if _, err := recordRoute(testContext(t), p.client); status.Code(err) != codes.InvalidArgument {
		t.Errorf("RecordRoute through the proxy = %v, want INVALID_ARGUMENT", err)
	}
	if st := in.Stats(); st.Calls != 1 {
		t.Errorf("server stats = %+v, want 1 call: INVALID_ARGUMENT is not retried", st)
	}
}

// TestMetadata: request metadata reaches the server, and the response
// header and trailer reach the client, without the headers of one hop;
// the deadline goes along.
func TestMetadata(t *testing.T) {
	type seen struct {
		md          metadata.MD
		hasDeadline bool
	}
	got := make(chan seen, 1)
	record := func(ctx context.Context) {
		md, _ := metadata.FromIncomingContext(ctx)
		_, ok := ctx.Deadline()
		select {
		case got <- seen{md, ok}:
		default:
		}
	}
	h := stubserver.Handlers{
		GetFeature: func(ctx context.Context, p *pb.Point) (*pb.Feature, error) {
			record(ctx)
			if err := grpc.SetHeader(ctx, metadata.Pairs("x-header", "h1")); err != nil {
				return nil, err
			}
			if err := grpc.SetTrailer(ctx, metadata.Pairs("x-trailer", "t1", "x-bin-bin", "\x00\x01")); err != nil {
				return nil, err
			}
			return &pb.Feature{Location: p}, nil
		},
		ListFeatures: func(_ *pb.Rectangle, s grpc.ServerStreamingServer[pb.Feature]) error {
			record(s.Context())
			if err := s.SetHeader(metadata.Pairs("x-header", "h1")); err != nil {
				return err
			}
			s.SetTrailer(metadata.Pairs("x-trailer", "t1", "x-bin-bin", "\x00\x01"))
			return s.Send(features[0])
		},
	}
	_, up := startUpstream(t, "", h)
	p := startProxy(t, up.Target(), []string{"--retry-times", "2"}, grpc.WithUserAgent("metadata-test"))

	calls := []struct {
		name string
		call func(ctx context.Context, header, trailer *metadata.MD) error
	}{
		{"unary", func(ctx context.Context, header, trailer *metadata.MD) error {
			_, err := p.client.GetFeature(ctx, features[0].GetLocation(), grpc.Header(header), grpc.Trailer(trailer))
			return err
		}},
		{"server-stream", func(ctx context.Context, header, trailer *metadata.MD) error {
			stream, err := p.client.ListFeatures(ctx, &pb.Rectangle{}, grpc.Header(header), grpc.Trailer(trailer))
			for err == nil {
				_, err = stream.Recv()
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			ctx := metadata.AppendToOutgoingContext(testContext(t),
				"x-request", "r1", "x-request-bin", "\xff\x00", "grpc-previous-rpc-attempts", "7")
			var header, trailer metadata.MD
			if err := c.call(ctx, &header, &trailer); err != nil {
				t.Fatalf("%s through the proxy = %v, want nil", c.name, err)
			}
			s := <-got
			for k, want := range map[string][]string{"x-request": {"r1"}, "x-request-bin": {"\xff\x00"}, ":authority": {up.Target()}} {
				if diff := cmp.Diff(want, s.md.Get(k)); diff != "" {
					t.Errorf("server got metadata %s with a diff (-want +got):\n%s", k, diff)
				}
			}
			if v := s.md.Get("grpc-previous-rpc-attempts"); v != nil {
				t.Errorf("server got grpc-previous-rpc-attempts %q on the first attempt, want none: it belongs to the client's hop", v)
			}
			if ua := strings.Join(s.md.Get("user-agent"), " "); strings.Contains(ua, "metadata-test") {
				t.Errorf("server got user-agent %q, want the proxy's own", ua)
			}
			if !s.hasDeadline {
				t.Errorf("server got no deadline, want the client's")
			}
			if diff := cmp.Diff([]string{"h1"}, header.Get("x-header")); diff != "" {
				t.Errorf("client got header x-header with a diff (-want +got):\n%s", diff)
			}
			for k, want := range map[string][]string{"x-trailer": {"t1"}, "x-bin-bin": {"\x00\x01"}} {
				if diff := cmp.Diff(want, trailer.Get(k)); diff != "" {
					t.Errorf("client got trailer %s with a diff (-want +got):\n%s", k, diff)
				}
			}
		})
	}
}

// TestStatusPassThrough: the final status reaches the client with its code,
// message and details, and the last attempt's trailer with it.
func TestStatusPassThrough(t *testing.T) {
	want := status.New(codes.FailedPrecondition, "the route is closed")
	want, err := want.WithDetails(&errdetails.ErrorInfo{Reason: "CLOSED", Domain: "routeguide.example"})
	if err != nil {
		t.Fatal(err)
	}
	h := stubserver.Handlers{GetFeature: func(context.Context, *pb.Point) (*pb.Feature, error) {
		return nil, want.Err()
	}}
	_, up := startUpstream(t, "", h)
	p := startProxy(t, up.Target(), []string{"--retry-times", "2"})
	_, err = p.client.GetFeature(testContext(t), features[0].GetLocation())
	if diff := cmp.Diff(want.Proto(), status.Convert(err).Proto(), protocmp.Transform()); diff != "" {
		t.Errorf("GetFeature through the proxy returned a status with a diff (-want +got):\n%s", diff)
	}

	// A negative pushback stops the proxy's retries; the client sees it too.
	in, up := startUpstream(t, "unavailable+pushback=-1ms", stubserver.Handlers{})
	p = startProxy(t, up.Target(), []string{"--retry-times", "2"})
	var trailer metadata.MD
	_, err = p.client.GetFeature(testContext(t), features[0].GetLocation(), grpc.Trailer(&trailer))
	if status.Code(err) != codes.Unavailable {
		t.Errorf("GetFeature through the proxy = %v, want UNAVAILABLE", err)
	}
	if diff := cmp.Diff([]string{"-1"}, trailer.Get("grpc-retry-pushback-ms")); diff != "" {
		t.Errorf("GetFeature through the proxy: trailer grpc-retry-pushback-ms with a diff (-want +got):\n%s", diff)
	}
	if st := in.Stats(); st.Calls != 1 {
		t.Errorf("server stats = %+v, want 1 call: the pushback says not to retry", st)
	}
}

// TestStats: the stats line counts the calls by their end, and the
// retries.
func TestStats(t *testing.T) {
	_, up := startUpstream(t, "/routeguide.RouteGuide/GetFeature:first=1:unavailable,/routeguide.RouteGuide/ListFeatures:invalid_argument", stubserver.Handlers{})
	p := startProxy(t, up.Target(), []string{"--retry-times", "2"})
	ctx := testContext(t)
	if _, err := getFeature(ctx, p.client); err != nil {
		t.Fatalf("GetFeature = %v, want nil", err)
	}
	if _, err := listFeatures(ctx, p.client); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("ListFeatures = %v, want INVALID_ARGUMENT", err)
	}
	if got, want := p.stats(t), "calls=2 ok=1 failed=1 (INVALID_ARGUMENT=1) retries=1 hedges=0"; got != want {
		t.Errorf("stats = %q, want %q", got, want)
	}
}
