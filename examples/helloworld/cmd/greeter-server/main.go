// Command greeter-server serves the helloworld example's Greeter service
// (examples/helloworld/server) and injects faults into it on request, so
// that greeter-client's retries have something to do.
//
// Usage:
//
//	greeter-server [--addr HOST:PORT | --port N] [--faults SPEC] [--seed N]
//
// Flags:
//
//	--addr HOST:PORT   listen on HOST:PORT (default 127.0.0.1:50052)
//	--port N           listen on 127.0.0.1:N; 0 picks a free port. Not with --addr.
//	--faults SPEC      call faults in faultinject.ParseSpec's text form,
//	                   such as "unavailable=30%"
//	--seed N           seed of every fault decision (a uint64). Without it a
//	                   random seed is picked and printed.
//
// Example, from the repository root:
//
//	go run ./examples/helloworld/cmd/greeter-server --port 50052 --faults 'unavailable=30%' --seed 1
//
// The first line on stdout gives the address, as in
//
//	greeter-server: listening on 127.0.0.1:50052 seed=1 faults="unavailable=30%"
//
// every injected fault is logged on stderr in one line, and the counters
// are printed on stdout when the server stops:
//
//	greeter-server: stats: calls=5 aborts=2 (UNAVAILABLE=2) delays=0
//
// Besides helloworld.Greeter the server registers gRPC reflection and the
// health service; faults never apply to them. It serves until SIGINT or
// SIGTERM, then stops gracefully (running calls get 5 seconds). It exits 2
// on a bad command line and 1 on any other failure. See package
// internal/exampleserver for the details it shares with calculator-server.
package main

import (
	pb "github.com/resilience-go/grpc-resilience/examples/helloworld/helloworldpb"
	"github.com/resilience-go/grpc-resilience/examples/helloworld/server"
	"github.com/resilience-go/grpc-resilience/internal/exampleserver"
)

// name is the command's name, the prefix of its output lines.
const name = "greeter-server"

func main() { command().Main() }

// command returns the command with a fresh Greeter.
func command() exampleserver.Command {
	return exampleserver.Command{
		Name:        name,
		DefaultAddr: "127.0.0.1:50052",
		Desc:        &pb.Greeter_ServiceDesc,
		Impl:        server.New(),
	}
}
