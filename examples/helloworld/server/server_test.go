package server_test

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	pb "github.com/resilience-go/grpc-resilience/examples/helloworld/helloworldpb"
	"github.com/resilience-go/grpc-resilience/examples/helloworld/server"
	"github.com/resilience-go/grpc-resilience/internal/stubserver"
)

// startGreeter serves a fresh Greeter over bufconn and returns a client;
// both are shut down in t.Cleanup.
func startGreeter(t *testing.T) pb.GreeterClient {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	gs := grpc.NewServer()
	server.New().Register(gs)
	served := make(chan error, 1)
	go func() { served <- gs.Serve(lis) }()
	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("grpc.NewClient(bufconn) = %v", err)
	}
	t.Cleanup(func() {
		conn.Close()
		gs.Stop()
		if err := <-served; err != nil {
			t.Errorf("Serve() = %v, want nil", err)
		}
	})
	return pb.NewGreeterClient(conn)
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), stubserver.DefaultTimeout)
	t.Cleanup(cancel)
	return ctx
}

func TestSayHello(t *testing.T) {
	c := startGreeter(t)
	ctx := testContext(t)
	for _, tc := range []struct {
		name     string
		want     string
		wantCode codes.Code
	}{
		{"world", "Hello world", codes.OK},
		{"Ada Lovelace", "Hello Ada Lovelace", codes.OK},
		{"世界", "Hello 世界", codes.OK},
		{"", "", codes.InvalidArgument},
	} {
		r, err := c.SayHello(ctx, &pb.HelloRequest{Name: tc.name})
		if got := status.Code(err); got != tc.wantCode || r.GetMessage() != tc.want {
			t.Errorf("SayHello(%q) = %q, %v; want %q, %v", tc.name, r.GetMessage(), got, tc.want, tc.wantCode)
		}
	}
}

func TestSayHelloStreamReply(t *testing.T) {
	c := startGreeter(t)
	ctx := testContext(t)
	for _, tc := range []struct {
		name     string
		want     []string
		wantCode codes.Code
	}{
		{"world", []string{"Hello world", "Bonjour world", "Hola world"}, codes.OK},
		{"Bob", []string{"Hello Bob", "Bonjour Bob", "Hola Bob"}, codes.OK},
		{"", nil, codes.InvalidArgument},
	} {
		stream, err := c.SayHelloStreamReply(ctx, &pb.HelloRequest{Name: tc.name})
		if err != nil {
			t.Fatalf("SayHelloStreamReply(%q) = %v", tc.name, err)
		}
		var got []string
		for range len(server.Greetings()) + 1 {
			r, err := stream.Recv()
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = nil
				}
				if code := status.Code(err); code != tc.wantCode {
					t.Errorf("SayHelloStreamReply(%q) ended with %v, want %v", tc.name, err, tc.wantCode)
				}
				break
			}
			got = append(got, r.GetMessage())
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("SayHelloStreamReply(%q) replies mismatch (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestSayHelloBidiStream(t *testing.T) {
	c := startGreeter(t)
	ctx := testContext(t)
	for _, tc := range []struct {
		desc     string
		names    []string
		want     []string
		wantCode codes.Code
	}{
		{"none", nil, nil, codes.OK},
		{"one", []string{"world"}, []string{"Hello world"}, codes.OK},
		{"three", []string{"a", "b", "c"}, []string{"Hello a", "Hello b", "Hello c"}, codes.OK},
		{"empty name stops the stream", []string{"a", "", "c"}, []string{"Hello a"}, codes.InvalidArgument},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			stream, err := c.SayHelloBidiStream(ctx)
			if err != nil {
				t.Fatalf("SayHelloBidiStream() = %v", err)
			}
			// Sends never block here: the messages are small and the
			// server reads them as they come.
			for _, n := range tc.names {
				if err := stream.Send(&pb.HelloRequest{Name: n}); err != nil && !errors.Is(err, io.EOF) {
					t.Fatalf("Send(%q) = %v", n, err)
				}
			}
			if err := stream.CloseSend(); err != nil {
				t.Fatalf("CloseSend() = %v", err)
			}
			var got []string
			for range len(tc.names) + 1 {
				r, err := stream.Recv()
				if err != nil {
					if errors.Is(err, io.EOF) {
						err = nil
					}
					if code := status.Code(err); code != tc.wantCode {
						t.Errorf("SayHelloBidiStream(%q) ended with %v, want %v", tc.names, err, tc.wantCode)
					}
					break
				}
				got = append(got, r.GetMessage())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("SayHelloBidiStream(%q) replies mismatch (-want +got):\n%s", tc.names, diff)
			}
		})
	}
}

func TestGreetingsCopy(t *testing.T) {
	g := server.Greetings()
	if diff := cmp.Diff([]string{"Hello", "Bonjour", "Hola"}, g); diff != "" {
		t.Errorf("Greetings() mismatch (-want +got):\n%s", diff)
	}
	g[0] = "Goodbye"
	if got := server.Greetings()[0]; got != "Hello" {
		t.Errorf("Greetings()[0] after changing an earlier result = %q, want %q", got, "Hello")
	}
}
