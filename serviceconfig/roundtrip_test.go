package serviceconfig_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"

	rsc "github.com/resilience-go/grpc-resilience/serviceconfig"
)

// newClient builds a client for a target that is never dialled, so that only
// grpc.NewClient's own checks (the default service config among them) run.
func newClient(t *testing.T, opts ...grpc.DialOption) error {
	t.Helper()
	opts = append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, opts...)
	cc, err := grpc.NewClient("passthrough:///x", opts...)
	if err == nil {
		if err := cc.Close(); err != nil {
			t.Errorf("ClientConn.Close() = %v, want nil", err)
		}
	}
	return err
}

func ptr[T any](v T) *T { return &v }

// validConfigs are accepted by Parse; each round-trips and grpc-go accepts
// the JSON written for it.
var validConfigs = []struct {
	name string
	in   string
}{
	{"empty", `{}`},
	{"empty lists", `{"methodConfig":[]}`},
	{"default only", `{"methodConfig":[{"name":[{}],"retryPolicy":{"maxAttempts":3,"initialBackoff":"0.1s","maxBackoff":"1s","backoffMultiplier":2,"retryableStatusCodes":["UNAVAILABLE"]}}]}`},
	{"service-wide", `{"methodConfig":[{"name":[{"service":"routeguide.RouteGuide"}],"waitForReady":true,"timeout":"2.5s","retryPolicy":{"maxAttempts":4,"initialBackoff":".1s","maxBackoff":"1s","backoffMultiplier":1.5,"retryableStatusCodes":["UNAVAILABLE","RESOURCE_EXHAUSTED"]}}]}`},
	{"exact, service-wide and default", `{
		"methodConfig": [
			{"name": [{"service": "s", "method": "Get"}, {"service": "t", "method": "Get"}], "timeout": "0.25s", "maxRequestMessageBytes": 1024, "maxResponseMessageBytes": 4194304},
			{"name": [{"service": "s"}], "waitForReady": false, "retryPolicy": {"maxAttempts": 2, "initialBackoff": "0.001s", "maxBackoff": "0.001s", "backoffMultiplier": 1, "retryableStatusCodes": [14]}},
			{"name": [{}], "timeout": "30s"}
		]
	}`},
	{"hedging", `{"methodConfig":[{"name":[{"service":"s"}],"hedgingPolicy":{"maxAttempts":3,"hedgingDelay":"0.5s","nonFatalStatusCodes":["UNAVAILABLE","INTERNAL","ABORTED"]}}]}`},
	{"hedging minimal", `{"methodConfig":[{"name":[{"service":"s"}],"hedgingPolicy":{"maxAttempts":2,"hedgingDelay":"0s","nonFatalStatusCodes":[]}}]}`},
	{"throttling", `{"retryThrottling":{"maxTokens":10,"tokenRatio":0.1}}`},
	{"throttling extremes", `{"retryThrottling":{"maxTokens":1000,"tokenRatio":0.001}}`},
	{"load balancing config", `{"loadBalancingConfig": [ {"round_robin": {}} ], "methodConfig":[{"name":[{"service":"s"}],"timeout":"1s"}]}`},
	{"load balancing fallback list", `{"loadBalancingConfig":[{"no_such_policy":{}},{"pick_first":{"shuffleAddressList":true}}]}`},
	{"load balancing policy", `{"loadBalancingPolicy":"round_robin"}`},
	{"health check", `{"healthCheckConfig":{"serviceName":"grpc.health.v1.Health"}}`},
	{"lower-case codes", `{"methodConfig":[{"name":[{"service":"s"}],"retryPolicy":{"maxAttempts":3,"initialBackoff":"0.1s","maxBackoff":"1s","backoffMultiplier":2,"retryableStatusCodes":["unavailable","Resource_Exhausted","DeadlineExceeded","10"]}}]}`},
	{"caps and truncation", `{"methodConfig":[{"name":[{"service":"a"}],"retryPolicy":{"maxAttempts":6,"initialBackoff":"1.000000001s","maxBackoff":"300s","backoffMultiplier":0.5,"retryableStatusCodes":["UNAVAILABLE","unavailable"]}},{"name":[{"service":"b"}],"hedgingPolicy":{"maxAttempts":100}}],"retryThrottling":{"maxTokens":0.5,"tokenRatio":0.1239}}`},
	{"nulls", `{"loadBalancingConfig":null,"methodConfig":[{"name":[{"service":"s","method":null}],"timeout":null,"retryPolicy":null}],"retryThrottling":null}`},
	{"everything", `{
		"loadBalancingPolicy": "pick_first",
		"loadBalancingConfig": [{"round_robin": {}}],
		"methodConfig": [
			{"name": [{"service": "a", "method": "M"}], "waitForReady": true, "timeout": "1.5s", "maxRequestMessageBytes": 0, "maxResponseMessageBytes": 10,
			 "retryPolicy": {"maxAttempts": 5, "initialBackoff": "0.000000001s", "maxBackoff": "315576000000s", "backoffMultiplier": 10, "retryableStatusCodes": ["ABORTED", 4]}},
			{"name": [{"service": "b"}], "hedgingPolicy": {"maxAttempts": 4, "hedgingDelay": "0.1s", "nonFatalStatusCodes": ["unavailable"]}}
		],
		"retryThrottling": {"maxTokens": 100, "tokenRatio": 1.005},
		"healthCheckConfig": {"serviceName": ""}
	}`},
}

func TestValidConfigsRoundTrip(t *testing.T) {
	for _, tc := range validConfigs {
		t.Run(tc.name, func(t *testing.T) {
			c1, err := rsc.Parse([]byte(tc.in))
			if err != nil {
				t.Fatalf("Parse(%s) = %v, want nil error", tc.in, err)
			}
			js, err := c1.MarshalJSON()
			if err != nil {
				t.Fatalf("MarshalJSON() = %v, want nil error", err)
			}
			c2, err := rsc.Parse(js)
			if err != nil {
				t.Fatalf("Parse(MarshalJSON()) = %v for %s, want nil error", err, js)
			}
			if diff := cmp.Diff(c1, c2); diff != "" {
				t.Errorf("Parse(MarshalJSON(Parse(%s))) differs from Parse(%s) (-want +got):\n%s", tc.in, tc.in, diff)
			}
			js2, err := c2.MarshalJSON()
			if err != nil || string(js2) != string(js) {
				t.Errorf("MarshalJSON() twice = %s, %v; want %s, nil", js2, err, js)
			}
			// encoding/json goes through the same methods.
			viaJSON, err := json.Marshal(c1)
			if err != nil || string(viaJSON) != string(js) {
				t.Errorf("json.Marshal(config) = %s, %v; want %s, nil", viaJSON, err, js)
			}
			var c3 rsc.Config
			if err := json.Unmarshal(js, &c3); err != nil {
				t.Fatalf("json.Unmarshal(%s) = %v, want nil", js, err)
			}
			if diff := cmp.Diff(c1, &c3); diff != "" {
				t.Errorf("json.Unmarshal(%s) (-want +got):\n%s", js, diff)
			}
			if err := newClient(t, c1.DialOption()); err != nil {
				t.Errorf("grpc.NewClient with DialOption() of %s = %v, want nil", js, err)
			}
		})
	}
}

func TestGRPCRejectsLowerCaseCodesButAcceptsOurs(t *testing.T) {
	const in = `{"methodConfig":[{"name":[{"service":"s"}],"retryPolicy":{"maxAttempts":3,"initialBackoff":"0.1s","maxBackoff":"1s","backoffMultiplier":2,"retryableStatusCodes":["unavailable"]}}]}`
	// The reason DialOption re-encodes: grpc-go's parser wants upper case.
	if err := newClient(t, grpc.WithDefaultServiceConfig(in)); err == nil {
		t.Fatalf("grpc.NewClient(WithDefaultServiceConfig(%s)) = nil error, want an error (grpc-go accepts only upper-case names)", in)
	}
	c, err := rsc.Parse([]byte(in))
	if err != nil {
		t.Fatalf("Parse(%s) = %v, want nil error", in, err)
	}
	js, _ := c.MarshalJSON()
	if !strings.Contains(string(js), `"retryableStatusCodes":["UNAVAILABLE"]`) {
		t.Errorf("MarshalJSON() = %s, want it to hold \"retryableStatusCodes\":[\"UNAVAILABLE\"]", js)
	}
	if err := newClient(t, c.DialOption()); err != nil {
		t.Errorf("grpc.NewClient(DialOption()) = %v, want nil", err)
	}
}

func TestParseValues(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want *rsc.Config
	}{
		{
			name: "empty",
			in:   `{}`,
			want: &rsc.Config{},
		},
		{
			name: "empty lists and nulls are unset",
			in:   `{"methodConfig":[],"retryThrottling":null,"loadBalancingPolicy":null}`,
			want: &rsc.Config{},
		},
		{
			name: "A6 example",
			in: `{"methodConfig":[{"name":[{"service":"s","method":"m"}],"waitForReady":true,"timeout":"1.5s",
				"retryPolicy":{"maxAttempts":4,"initialBackoff":".1s","maxBackoff":"1s","backoffMultiplier":2,"retryableStatusCodes":["UNAVAILABLE"]}}]}`,
			want: &rsc.Config{MethodConfigs: []rsc.MethodConfig{{
				Names:        []rsc.Name{{Service: "s", Method: "m"}},
				WaitForReady: ptr(true),
				Timeout:      1500 * time.Millisecond,
				RetryPolicy: &rsc.RetryPolicy{
					MaxAttempts:          4,
					InitialBackoff:       100 * time.Millisecond,
					MaxBackoff:           time.Second,
					BackoffMultiplier:    2,
					RetryableStatusCodes: []codes.Code{codes.Unavailable},
				},
			}}},
		},
		{
			name: "maxAttempts 6 becomes 5",
			in:   retryPolicy(`6`, `"1s"`, `"1s"`, `2`, `["UNAVAILABLE"]`),
			want: &rsc.Config{MethodConfigs: []rsc.MethodConfig{{
				Names: []rsc.Name{{Service: "s"}},
				RetryPolicy: &rsc.RetryPolicy{
					MaxAttempts: 5, InitialBackoff: time.Second, MaxBackoff: time.Second, BackoffMultiplier: 2,
					RetryableStatusCodes: []codes.Code{codes.Unavailable},
				},
			}}},
		},
		{
			name: "hedging maxAttempts 9 becomes 5, optional fields unset",
			in:   methodConfig(`"hedgingPolicy":{"maxAttempts":9}`),
			want: &rsc.Config{MethodConfigs: []rsc.MethodConfig{{
				Names:         []rsc.Name{{Service: "s"}},
				HedgingPolicy: &rsc.HedgingPolicy{MaxAttempts: 5},
			}}},
		},
		{
			name: "codes in any case, numbers, repeats dropped in first-seen order",
			in:   retryPolicy(`2`, `"0.001s"`, `"0.001s"`, `1`, `["aborted","Unavailable",14,"14","ABORTED","deadline_exceeded","DeadlineExceeded",8]`),
			want: &rsc.Config{MethodConfigs: []rsc.MethodConfig{{
				Names: []rsc.Name{{Service: "s"}},
				RetryPolicy: &rsc.RetryPolicy{
					MaxAttempts: 2, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond, BackoffMultiplier: 1,
					RetryableStatusCodes: []codes.Code{codes.Aborted, codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted},
				},
			}}},
		},
		{
			name: "tokenRatio 0.1239 becomes 0.123",
			in:   `{"retryThrottling":{"maxTokens":10,"tokenRatio":0.1239}}`,
			want: &rsc.Config{RetryThrottling: &rsc.RetryThrottling{MaxTokens: 10, TokenRatio: 0.123}},
		},
		{
			name: "tokenRatio 1.0059 becomes 1.005, not 1.004",
			in:   `{"retryThrottling":{"maxTokens":1e3,"tokenRatio":1.0059}}`,
			want: &rsc.Config{RetryThrottling: &rsc.RetryThrottling{MaxTokens: 1000, TokenRatio: 1.005}},
		},
		{
			name: "durations",
			in:   `{"methodConfig":[{"name":[{"service":"a"}],"timeout":"+2s"},{"name":[{"service":"b"}],"timeout":"0.000000001s"},{"name":[{"service":"c"}],"timeout":"1.s"},{"name":[{"service":"d"}],"timeout":"315576000000s"}]}`,
			want: &rsc.Config{MethodConfigs: []rsc.MethodConfig{
				{Names: []rsc.Name{{Service: "a"}}, Timeout: 2 * time.Second},
				{Names: []rsc.Name{{Service: "b"}}, Timeout: time.Nanosecond},
				{Names: []rsc.Name{{Service: "c"}}, Timeout: time.Second},
				{Names: []rsc.Name{{Service: "d"}}, Timeout: time.Duration(1<<63 - 1)}, // saturates, as in grpc-go
			}},
		},
		{
			name: "load balancing config compacted, default name",
			in:   `{"loadBalancingConfig": [ { "round_robin" : { } } ], "methodConfig":[{"name":[{"service":""}]}]}`,
			want: &rsc.Config{
				LoadBalancingConfig: json.RawMessage(`[{"round_robin":{}}]`),
				MethodConfigs:       []rsc.MethodConfig{{Names: []rsc.Name{{}}}},
			},
		},
		{
			name: "grpc's other fields",
			in:   `{"loadBalancingPolicy":"round_robin","healthCheckConfig":{"serviceName":"h"},"methodConfig":[{"name":[{"service":"s"}],"waitForReady":false,"maxRequestMessageBytes":0,"maxResponseMessageBytes":9007199254740993}]}`,
			want: &rsc.Config{
				LoadBalancingPolicy: "round_robin",
				HealthCheckConfig:   &rsc.HealthCheckConfig{ServiceName: "h"},
				MethodConfigs: []rsc.MethodConfig{{
					Names:                   []rsc.Name{{Service: "s"}},
					WaitForReady:            ptr(false),
					MaxRequestMessageBytes:  ptr[int64](0),
					MaxResponseMessageBytes: ptr[int64](9007199254740993),
				}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := rsc.Parse([]byte(tc.in))
			if err != nil {
				t.Fatalf("Parse(%s) = %v, want nil error", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Parse(%s) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestMarshalJSON(t *testing.T) {
	tests := []struct {
		name string
		in   *rsc.Config
		want string
	}{
		{"empty", &rsc.Config{}, `{}`},
		{
			name: "retry, proto3 durations and canonical names",
			in: &rsc.Config{MethodConfigs: []rsc.MethodConfig{{
				Names:   []rsc.Name{{Service: "routeguide.RouteGuide", Method: "GetFeature"}, {Service: "other.Svc"}},
				Timeout: 1500 * time.Millisecond,
				RetryPolicy: &rsc.RetryPolicy{
					MaxAttempts:          7, // above the cap: written as 5
					InitialBackoff:       100 * time.Millisecond,
					MaxBackoff:           time.Second,
					BackoffMultiplier:    1.5,
					RetryableStatusCodes: []codes.Code{codes.Unavailable, codes.ResourceExhausted, codes.Unavailable},
				},
			}}},
			want: `{"methodConfig":[{"name":[{"service":"routeguide.RouteGuide","method":"GetFeature"},{"service":"other.Svc"}],"timeout":"1.5s",` +
				`"retryPolicy":{"maxAttempts":5,"initialBackoff":"0.1s","maxBackoff":"1s","backoffMultiplier":1.5,"retryableStatusCodes":["UNAVAILABLE","RESOURCE_EXHAUSTED"]}}]}`,
		},
		{
			name: "hedging, default name, throttling truncated",
			in: &rsc.Config{
				LoadBalancingConfig: json.RawMessage("[ {\"round_robin\": {}} ]"),
				MethodConfigs: []rsc.MethodConfig{{
					Names:                  []rsc.Name{{}},
					WaitForReady:           ptr(true),
					MaxRequestMessageBytes: ptr[int64](1 << 20),
					HedgingPolicy:          &rsc.HedgingPolicy{MaxAttempts: 3, HedgingDelay: 1234567 * time.Microsecond, NonFatalStatusCodes: []codes.Code{codes.Internal}},
				}},
				RetryThrottling: &rsc.RetryThrottling{MaxTokens: 10, TokenRatio: 0.1239},
			},
			want: `{"loadBalancingConfig":[{"round_robin":{}}],"methodConfig":[{"name":[{}],"waitForReady":true,"maxRequestMessageBytes":1048576,` +
				`"hedgingPolicy":{"maxAttempts":3,"hedgingDelay":"1.234567s","nonFatalStatusCodes":["INTERNAL"]}}],"retryThrottling":{"maxTokens":10,"tokenRatio":0.123}}`,
		},
		{
			name: "hedging delay 0 and no codes left out",
			in: &rsc.Config{MethodConfigs: []rsc.MethodConfig{{
				Names:         []rsc.Name{{Service: "s", Method: "<m>&"}},
				HedgingPolicy: &rsc.HedgingPolicy{MaxAttempts: 2},
			}}},
			want: `{"methodConfig":[{"name":[{"service":"s","method":"<m>&"}],"hedgingPolicy":{"maxAttempts":2}}]}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.in.MarshalJSON()
			if err != nil || string(got) != tc.want {
				t.Errorf("MarshalJSON() = %s, %v; want %s, nil", got, err, tc.want)
			}
		})
	}
}

// FuzzParse checks that Parse never panics, and that:
//
//   - an error comes without a config and is an *rsc.Error;
//   - json.Unmarshal into a Config (which calls UnmarshalJSON) accepts
//     exactly what Parse accepts, with the same result;
//   - what it accepts is valid and already normalised;
//   - it round-trips exactly: Parse(MarshalJSON(c)) equals c, and
//     MarshalJSON writes the same bytes again;
//   - grpc-go accepts the config through DialOption, unless it holds a
//     loadBalancingConfig, whose policies grpc-go checks against its own
//     registry.
func FuzzParse(f *testing.F) {
	for _, tc := range validConfigs {
		f.Add([]byte(tc.in))
	}
	for _, tc := range parseErrorCases() {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c1, err := rsc.Parse(data)
		var viaJSON rsc.Config
		jsonErr := json.Unmarshal(data, &viaJSON)
		if err != nil {
			if c1 != nil {
				t.Errorf("Parse(%q) = %+v, %v; want nil with the error", data, c1, err)
			}
			var rerr *rsc.Error
			if !errors.As(err, &rerr) {
				t.Errorf("Parse(%q) = %T %v, want an *rsc.Error", data, err, err)
			}
			if jsonErr == nil {
				t.Errorf("json.Unmarshal(%q, &Config) = nil error, want an error as from Parse: %v", data, err)
			}
			return
		}
		if jsonErr != nil {
			t.Errorf("json.Unmarshal(%q, &Config) = %v, want nil error as from Parse", data, jsonErr)
		} else if diff := cmp.Diff(c1, &viaJSON); diff != "" {
			t.Errorf("json.Unmarshal(%q, &Config) (-Parse +Unmarshal):\n%s", data, diff)
		}
		if err := c1.Validate(); err != nil {
			t.Errorf("Parse(%q).Validate() = %v, want nil", data, err)
		}
		if n, err := c1.Normalized(); err != nil {
			t.Errorf("Parse(%q).Normalized() = %v, want nil error", data, err)
		} else if diff := cmp.Diff(c1, n); diff != "" {
			t.Errorf("Parse(%q).Normalized() (-Parse +Normalized):\n%s", data, diff)
		}
		js, err := c1.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON() of Parse(%q) = %v, want nil error", data, err)
		}
		c2, err := rsc.Parse(js)
		if err != nil {
			t.Fatalf("Parse(%s) = %v, want nil error (it came from MarshalJSON of Parse(%q))", js, err, data)
		}
		if diff := cmp.Diff(c1, c2); diff != "" {
			t.Errorf("Parse(MarshalJSON(Parse(%q))) (-want +got):\n%s", data, diff)
		}
		if js2, err := c2.MarshalJSON(); err != nil || string(js2) != string(js) {
			t.Errorf("MarshalJSON() of Parse(%s) = %s, %v; want the same bytes, nil", js, js2, err)
		}
		if c1.LoadBalancingConfig == nil {
			if err := newClient(t, c1.DialOption()); err != nil {
				t.Errorf("grpc.NewClient with DialOption() of %s = %v, want nil", js, err)
			}
		}
	})
}
