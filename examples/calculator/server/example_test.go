package server_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	pb "github.com/resilience-go/grpc-resilience/examples/calculator/calculatorpb"
	"github.com/resilience-go/grpc-resilience/examples/calculator/server"
	"github.com/resilience-go/grpc-resilience/faultinject"
	"github.com/resilience-go/grpc-resilience/interceptors"
	"github.com/resilience-go/grpc-resilience/retry"
)

// The Calculator behind a fault injector that fails the first attempt of
// every call with INTERNAL, and a client in the manual retry mode with no
// codes: Add, declared IDEMPOTENT, is retried and succeeds; Accumulate, not
// idempotent, returns INTERNAL after one attempt and adds nothing; an
// overflow is OUT_OF_RANGE, which is never retried.
func Example() {
	rules, err := faultinject.ParseSpec("first=1:internal")
	if err != nil {
		log.Fatal(err)
	}
	in, err := faultinject.New(rules)
	if err != nil {
		log.Fatal(err)
	}
	lis := bufconn.Listen(1 << 20)
	gs := grpc.NewServer(grpc.UnaryInterceptor(in.UnaryServerInterceptor()))
	calc := server.New()
	calc.Register(gs)
	go gs.Serve(lis)
	defer gs.Stop()

	conn, err := grpc.NewClient("passthrough:///bufconn", append(
		interceptors.DialOptions(interceptors.WithRetryTimes(4), interceptors.WithRetryInterval(time.Millisecond)),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	client := pb.NewCalculatorClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	sum, err := client.Add(ctx, &pb.CalcRequest{A: 2, B: 3})
	fmt.Println("Add(2, 3):", sum.GetResult(), err)

	_, err = client.Accumulate(ctx, &pb.AccumulateRequest{Value: 10})
	attempts, reason, _ := retry.Info(err)
	fmt.Println("Accumulate(10):", status.Code(err), attempts, reason)

	// The fault fails only the first attempt: the overflow shows on the
	// second, and is not retried.
	_, err = client.Multiply(ctx, &pb.CalcRequest{A: 1 << 16, B: 1 << 16})
	attempts, reason, _ = retry.Info(err)
	fmt.Println("Multiply(65536, 65536):", status.Code(err), attempts, reason)
	fmt.Println(status.Convert(err).Message())

	fmt.Println("total:", calc.Total())
	// Output:
	// Add(2, 3): 5 <nil>
	// Accumulate(10): Internal 1 non-retryable
	// Multiply(65536, 65536): OutOfRange 2 non-retryable
	// Multiply(65536, 65536) = 4294967296 overflows int32
	// total: 0
}
