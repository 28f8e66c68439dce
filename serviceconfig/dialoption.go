package serviceconfig

import (
	"encoding/json"

	"google.golang.org/grpc"
)

// DialOption hands c to grpc-go as the channel's default service config
// (grpc.WithDefaultServiceConfig with the JSON of [Config.MarshalJSON]), so
// that grpc-go's built-in retry, throttling, timeouts, wait-for-ready, size
// limits and load balancing act on it. grpc-go ignores hedgingPolicy; only
// this library's interceptors act on it. A service config from the name
// resolver, if any, takes precedence over this default.
//
// It never panics. If c is invalid (or nil), the option makes grpc.NewClient
// fail with an error whose text holds the message of the [*Error] that
// [Config.Validate] returns; call Validate first to get that error as a value.
func (c *Config) DialOption() grpc.DialOption {
	js, err := c.MarshalJSON()
	if err != nil {
		return failingServiceConfig(err)
	}
	return grpc.WithDefaultServiceConfig(string(js))
}

// failingServiceConfig returns a default service config that grpc-go
// rejects in grpc.NewClient with an error quoting err's text verbatim.
//
// grpc-go's errors for JSON it cannot decode do not quote the input, and
// those that quote a JSON string escape its quotes. One that quotes a
// decoded string as it is: a loadBalancingConfig entry must hold exactly one
// policy, and grpc-go prints an entry with two as a Go map, keys unescaped.
// The second key, "~", sorts after ours so that our message comes first.
func failingServiceConfig(err error) grpc.DialOption {
	js, _ := json.Marshal(map[string]any{
		"loadBalancingConfig": []map[string]int{{err.Error(): 0, "~": 0}},
	})
	return grpc.WithDefaultServiceConfig(string(js))
}
