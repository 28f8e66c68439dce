package cli_test

import (
	"errors"
	"fmt"
	"os"

	"github.com/resilience-go/grpc-resilience/internal/cli"
)

func ExampleExitCode() {
	code := cli.ExitCode("mycmd", cli.Usagef("--calls = %d, want 1 or more", 0), os.Stdout)
	fmt.Println("exit", code)
	code = cli.ExitCode("mycmd", errors.New("listen tcp: address in use\n(try another port)"), os.Stdout)
	fmt.Println("exit", code)
	fmt.Println("exit", cli.ExitCode("mycmd", nil, os.Stdout))
	// Output:
	// mycmd: --calls = 0, want 1 or more
	// exit 2
	// mycmd: listen tcp: address in use (try another port)
	// exit 1
	// exit 0
}
