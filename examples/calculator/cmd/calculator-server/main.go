// Command calculator-server serves the calculator example's Calculator
// service (examples/calculator/server) and injects faults into it on
// request, so that calculator-client's retries have something to do.
//
// Usage:
//
//	calculator-server [--addr HOST:PORT | --port N] [--faults SPEC] [--seed N]
//
// Flags:
//
//	--addr HOST:PORT   listen on HOST:PORT (default 127.0.0.1:50053)
//	--port N           listen on 127.0.0.1:N; 0 picks a free port. Not with --addr.
//	--faults SPEC      call faults in faultinject.ParseSpec's text form,
//	                   such as "internal=50%"
//	--seed N           seed of every fault decision (a uint64). Without it a
//	                   random seed is picked and printed.
//
// Example, from the repository root:
//
//	go run ./examples/calculator/cmd/calculator-server --port 50053 --faults 'internal=50%' --seed 3
//
// The first line on stdout gives the address, as in
//
//	calculator-server: listening on 127.0.0.1:50053 seed=3 faults="internal=50%"
//
// every injected fault is logged on stderr in one line, and when the server
// stops it prints its counters on stdout, with the running total of
// Accumulate and how many Accumulate calls changed it:
//
//	calculator-server: stats: calls=14 aborts=5 (INTERNAL=5) delays=0 total=12 accumulated=2
//
// An injected fault fails a call before its handler runs, so a faulted
// Accumulate never changes the total: total is the sum of the values of the
// Accumulate calls that succeeded, once each.
//
// Besides calculator.Calculator the server registers gRPC reflection and
// the health service; faults never apply to them. It serves until SIGINT or
// SIGTERM, then stops gracefully (running calls get 5 seconds). It exits 2
// on a bad command line and 1 on any other failure. See package
// internal/exampleserver for the details it shares with greeter-server.
package main

import (
	"fmt"

	pb "github.com/resilience-go/grpc-resilience/examples/calculator/calculatorpb"
	"github.com/resilience-go/grpc-resilience/examples/calculator/server"
	"github.com/resilience-go/grpc-resilience/internal/exampleserver"
)

// name is the command's name, the prefix of its output lines.
const name = "calculator-server"

func main() { command(server.New()).Main() }

// command returns the command serving srv.
func command(srv *server.Server) exampleserver.Command {
	return exampleserver.Command{
		Name:        name,
		DefaultAddr: "127.0.0.1:50053",
		Desc:        &pb.Calculator_ServiceDesc,
		Impl:        srv,
		Stats: func() string {
			return fmt.Sprintf("total=%d accumulated=%d", srv.Total(), srv.Accumulated())
		},
	}
}
