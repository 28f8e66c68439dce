package helloworld_test

import (
	"fmt"

	"github.com/resilience-go/grpc-resilience/examples/helloworld"
	rsc "github.com/resilience-go/grpc-resilience/serviceconfig"
)

// The retry policy that greeter-client follows, as the library reads it.
func ExampleServiceConfigJSON() {
	cfg, err := rsc.Parse(helloworld.ServiceConfigJSON())
	if err != nil {
		fmt.Println(err)
		return
	}
	p := cfg.MethodConfig("/helloworld.Greeter/SayHello").RetryPolicy
	fmt.Println(p.MaxAttempts, p.InitialBackoff, p.MaxBackoff, p.BackoffMultiplier, p.RetryableStatusCodes)
	fmt.Println(cfg.RetryThrottling.MaxTokens, cfg.RetryThrottling.TokenRatio)
	// Output:
	// 5 10ms 100ms 2 [Unavailable]
	// 10 0.1
}
