package exampleserver_test

import (
	"context"
	"fmt"
	"io"
	"os"

	pb "github.com/resilience-go/grpc-resilience/examples/helloworld/helloworldpb"
	"github.com/resilience-go/grpc-resilience/examples/helloworld/server"
	"github.com/resilience-go/grpc-resilience/internal/cli"
	"github.com/resilience-go/grpc-resilience/internal/exampleserver"
)

// A server command is a Command value; its main function calls Main. Here
// it prints its usage, and the one-line report of a bad flag, without
// listening anywhere.
func Example() {
	cmd := exampleserver.Command{
		Name:        "greeter-server",
		DefaultAddr: "127.0.0.1:50052",
		Desc:        &pb.Greeter_ServiceDesc,
		Impl:        server.New(),
	}
	// In func main: cmd.Main()
	_ = cmd.Run(context.Background(), []string{"-h"}, os.Stdout, io.Discard)

	err := cmd.Run(context.Background(), []string{"--faults", "unavailable=300%"}, io.Discard, io.Discard)
	code := cli.ExitCode(cmd.Name, err, os.Stdout)
	fmt.Println("exit status", code)
	// Output:
	// Usage: greeter-server [flags]
	//   -addr host:port
	//     	host:port to listen on; not with --port (default "127.0.0.1:50052")
	//   -faults spec
	//     	call faults as a spec, such as "unavailable=30%,delay=50ms@10%"
	//   -port N
	//     	listen on 127.0.0.1:N; 0 picks a free port; not with --addr
	//   -seed seed
	//     	seed of every fault decision (default: random, printed at startup)
	// greeter-server: --faults: faultinject: spec rule 1 "unavailable=300%": share "300%": not in (0%, 100%]
	// exit status 2
}
