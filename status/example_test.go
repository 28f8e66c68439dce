package status_test

import (
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	rstatus "github.com/resilience-go/grpc-resilience/status"
)

func ExampleRetryable() {
	for _, c := range []codes.Code{codes.Unavailable, codes.Internal, codes.InvalidArgument} {
		fmt.Printf("%-16s %-9v plain=%-5v idempotent=%v\n", rstatus.Name(c), rstatus.Classify(c),
			rstatus.Retryable(c, false), rstatus.Retryable(c, true))
	}
	// Output:
	// UNAVAILABLE      Transient plain=true  idempotent=true
	// INTERNAL         Ambiguous plain=false idempotent=true
	// INVALID_ARGUMENT Permanent plain=false idempotent=false
}

func ExampleParseCode() {
	for _, s := range []string{"unavailable", "DeadlineExceeded", "8", "17"} {
		c, err := rstatus.ParseCode(s)
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Println(rstatus.Name(c))
	}
	// Output:
	// UNAVAILABLE
	// DEADLINE_EXCEEDED
	// RESOURCE_EXHAUSTED
	// error: status code "17": not a number from 0 to 16
}

func ExampleCode() {
	err := fmt.Errorf("get feature: %w", status.Error(codes.Unavailable, "connection refused"))
	fmt.Println(rstatus.Code(err))
	// Output: Unavailable
}
