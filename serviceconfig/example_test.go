package serviceconfig_test

import (
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"

	rsc "github.com/resilience-go/grpc-resilience/serviceconfig"
)

func ExampleParse() {
	cfg, err := rsc.Parse([]byte(`{
		"methodConfig": [
			{
				"name": [{"service": "routeguide.RouteGuide", "method": "GetFeature"}],
				"retryPolicy": {
					"maxAttempts": 8,
					"initialBackoff": ".1s",
					"maxBackoff": "1s",
					"backoffMultiplier": 2,
					"retryableStatusCodes": ["unavailable", "RESOURCE_EXHAUSTED"]
				}
			},
			{"name": [{"service": "routeguide.RouteGuide"}], "timeout": "2s"},
			{"name": [{}], "timeout": "10s"}
		]
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	rp := cfg.MethodConfig("/routeguide.RouteGuide/GetFeature").RetryPolicy
	fmt.Println("GetFeature attempts:", rp.MaxAttempts, "codes:", rp.RetryableStatusCodes)
	fmt.Println("ListFeatures timeout:", cfg.MethodConfig("/routeguide.RouteGuide/ListFeatures").Timeout)
	fmt.Println("other service timeout:", cfg.MethodConfig("/helloworld.Greeter/SayHello").Timeout)

	_, err = rsc.Parse([]byte(`{"methodConfig": [{"name": [{"service": "s"}], "retryPolicy": {"maxAttempt": 3}}]}`))
	fmt.Println(err)
	// Output:
	// GetFeature attempts: 5 codes: [Unavailable ResourceExhausted]
	// ListFeatures timeout: 2s
	// other service timeout: 10s
	// serviceconfig: methodConfig[0].retryPolicy.maxAttempt: unknown field
}

func ExampleConfig_MarshalJSON() {
	cfg := &rsc.Config{
		MethodConfigs: []rsc.MethodConfig{{
			Names: []rsc.Name{{Service: "routeguide.RouteGuide"}},
			RetryPolicy: &rsc.RetryPolicy{
				MaxAttempts:          3,
				InitialBackoff:       100 * time.Millisecond,
				MaxBackoff:           time.Second,
				BackoffMultiplier:    2,
				RetryableStatusCodes: []codes.Code{codes.Unavailable},
			},
		}},
		RetryThrottling: &rsc.RetryThrottling{MaxTokens: 10, TokenRatio: 0.1239},
	}
	js, err := cfg.MarshalJSON()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(js))
	// Output:
	// {"methodConfig":[{"name":[{"service":"routeguide.RouteGuide"}],"retryPolicy":{"maxAttempts":3,"initialBackoff":"0.1s","maxBackoff":"1s","backoffMultiplier":2,"retryableStatusCodes":["UNAVAILABLE"]}}],"retryThrottling":{"maxTokens":10,"tokenRatio":0.123}}
}

func ExampleConfig_DialOption() {
	cfg := &rsc.Config{MethodConfigs: []rsc.MethodConfig{{
		Names:       []rsc.Name{{Service: "routeguide.RouteGuide"}},
		RetryPolicy: &rsc.RetryPolicy{MaxAttempts: 1}, // invalid: one attempt is no retry
	}}}
	fmt.Println(cfg.Validate())

	// grpc.NewClient connects lazily: nothing goes to the network here.
	_, err := grpc.NewClient("passthrough:///routeguide",
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		cfg.DialOption(),
	)
	fmt.Println(err != nil)
	// Output:
	// serviceconfig: methodConfig[0].retryPolicy.maxAttempts: 1 is not greater than 1
	// true
}
