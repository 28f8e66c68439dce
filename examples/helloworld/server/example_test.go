package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"github.com/resilience-go/grpc-resilience/examples/helloworld"
	pb "github.com/resilience-go/grpc-resilience/examples/helloworld/helloworldpb"
	"github.com/resilience-go/grpc-resilience/examples/helloworld/server"
	"github.com/resilience-go/grpc-resilience/faultinject"
	"github.com/resilience-go/grpc-resilience/interceptors"
	rsc "github.com/resilience-go/grpc-resilience/serviceconfig"
)

// The Greeter behind a fault injector that fails the first attempt of every
// call with UNAVAILABLE, and a client that follows the example's service
// config: every call succeeds on its second attempt.
func Example() {
	rules, err := faultinject.ParseSpec("first=1:unavailable")
	if err != nil {
		log.Fatal(err)
	}
	in, err := faultinject.New(rules)
	if err != nil {
		log.Fatal(err)
	}
	lis := bufconn.Listen(1 << 20)
	gs := grpc.NewServer(
		grpc.UnaryInterceptor(in.UnaryServerInterceptor()),
		grpc.StreamInterceptor(in.StreamServerInterceptor()))
	server.New().Register(gs)
	go gs.Serve(lis)
	defer gs.Stop()

	cfg, err := rsc.Parse(helloworld.ServiceConfigJSON())
	if err != nil {
		log.Fatal(err)
	}
	conn, err := grpc.NewClient("passthrough:///bufconn", append(
		interceptors.DialOptions(interceptors.WithServiceConfig(cfg)),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	client := pb.NewGreeterClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	reply, err := client.SayHello(ctx, &pb.HelloRequest{Name: "world"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(reply.GetMessage())

	stream, err := client.SayHelloStreamReply(ctx, &pb.HelloRequest{Name: "world"})
	if err != nil {
		log.Fatal(err)
	}
	for {
		r, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(r.GetMessage())
	}
	s := in.Stats()
	fmt.Printf("attempts seen by the server: %d, failed: %d\n", s.Calls, s.Aborts)
	// Output:
	// Hello world
	// Hello world
	// Bonjour world
	// Hola world
	// attempts seen by the server: 4, failed: 2
}
