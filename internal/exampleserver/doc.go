// Package exampleserver is the command-line server that the small examples
// (examples/helloworld's greeter-server, examples/calculator's
// calculator-server) share: flag parsing, listening, fault injection,
// reflection and health, the startup and stats lines, and the graceful stop.
// Each command supplies only its service, in a [Command].
//
// # Flags
//
//	--addr HOST:PORT   listen on HOST:PORT (default: the command's DefaultAddr)
//	--port N           listen on 127.0.0.1:N; 0 picks a free port. Not with --addr.
//	--faults SPEC      call faults in faultinject.ParseSpec's text form, such as
//	                   "unavailable=30%" or "internal=50%,delay=20ms@10%"
//	--seed N           seed of every fault decision (a uint64). Without it a
//	                   random seed is picked and printed, so that any run can
//	                   be repeated exactly.
//
// A bad command line is a cli.UsageError naming the flag and its value, and
// ends the command with exit status 2; any other failure (the address is in
// use) with status 1.
//
// # Output
//
// The first line on stdout says where the server listens, so that scripts
// and tests can parse the address:
//
//	greeter-server: listening on 127.0.0.1:50052 seed=1 faults="unavailable=30%"
//
// Every injected fault is logged on stderr in one line:
//
//	greeter-server: fault: abort UNAVAILABLE /helloworld.Greeter/SayHello seq=1 attempt=1 rule=0
//
// When the server stops it prints its counters on stdout in one line,
// followed by the fields of Command.Stats when it is set:
//
//	calculator-server: stats: calls=12 aborts=5 (INTERNAL=5) delays=0 total=15
//
// # Invariants
//
//   - Faults apply to the command's own service only: reflection and health
//     calls are never faulted and never count as calls, so grpcurl and
//     health checkers neither break nor shift the calls a seed picks. A
//     fault rule that names a method of another service is a usage error.
//   - The server registers gRPC reflection and the standard health service,
//     SERVING for "" and for the service until the server stops.
//   - It serves until the context of [Command.Run] is done (SIGINT or
//     SIGTERM in [Command.Main]), then stops gracefully: health turns
//     NOT_SERVING, running calls get up to 5 seconds to finish, and calls
//     still running after that are cut off.
//   - Output lines are whole: concurrent fault logs never interleave.
package exampleserver
