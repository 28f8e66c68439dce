package serviceconfig_test

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"

	rsc "github.com/resilience-go/grpc-resilience/serviceconfig"
)

// goodRetry returns a valid retry policy to break one field of.
func goodRetry() *rsc.RetryPolicy {
	return &rsc.RetryPolicy{
		MaxAttempts:          3,
		InitialBackoff:       100 * time.Millisecond,
		MaxBackoff:           time.Second,
		BackoffMultiplier:    2,
		RetryableStatusCodes: []codes.Code{codes.Unavailable},
	}
}

// withRetry returns a one-entry config for service "s" with policy p.
func withRetry(p *rsc.RetryPolicy) *rsc.Config {
	return &rsc.Config{MethodConfigs: []rsc.MethodConfig{{Names: []rsc.Name{{Service: "s"}}, RetryPolicy: p}}}
}

func TestValidateStructLiterals(t *testing.T) {
	const rp = "methodConfig[0].retryPolicy"
	tests := []struct {
		name  string
		c     *rsc.Config
		path  string
		value string
	}{
		{"nil", nil, "", "nil *Config"},
		{"maxAttempts 1", withRetry(func() *rsc.RetryPolicy { p := goodRetry(); p.MaxAttempts = 1; return p }()), rp + ".maxAttempts", "1 is not greater than 1"},
		{"maxAttempts unset", withRetry(func() *rsc.RetryPolicy { p := goodRetry(); p.MaxAttempts = 0; return p }()), rp + ".maxAttempts", "0 is not greater than 1"},
		{"initialBackoff 0", withRetry(func() *rsc.RetryPolicy { p := goodRetry(); p.InitialBackoff = 0; return p }()), rp + ".initialBackoff", `"0s" is not greater than 0`},
		{"maxBackoff negative", withRetry(func() *rsc.RetryPolicy { p := goodRetry(); p.MaxBackoff = -100 * time.Millisecond; return p }()), rp + ".maxBackoff", `"-0.1s" is not greater than 0`},
		{"multiplier NaN", withRetry(func() *rsc.RetryPolicy { p := goodRetry(); p.BackoffMultiplier = math.NaN(); return p }()), rp + ".backoffMultiplier", "NaN is not greater than 0"},
		{"multiplier +Inf", withRetry(func() *rsc.RetryPolicy { p := goodRetry(); p.BackoffMultiplier = math.Inf(1); return p }()), rp + ".backoffMultiplier", "+Inf is not a finite number"},
		{"no codes", withRetry(func() *rsc.RetryPolicy { p := goodRetry(); p.RetryableStatusCodes = nil; return p }()), rp + ".retryableStatusCodes", "empty list"},
		{"code 17", withRetry(func() *rsc.RetryPolicy {
			p := goodRetry()
			p.RetryableStatusCodes = []codes.Code{codes.Unavailable, 17}
			return p
		}()), rp + ".retryableStatusCodes[1]", "17 is not a status code from 0 to 16"},
		{"both policies", &rsc.Config{MethodConfigs: []rsc.MethodConfig{{
			Names: []rsc.Name{{Service: "s"}}, RetryPolicy: goodRetry(), HedgingPolicy: &rsc.HedgingPolicy{MaxAttempts: 2},
		}}}, "methodConfig[0]", "has both retryPolicy and hedgingPolicy"},
		{"hedging delay negative", &rsc.Config{MethodConfigs: []rsc.MethodConfig{{
			Names: []rsc.Name{{Service: "s"}}, HedgingPolicy: &rsc.HedgingPolicy{MaxAttempts: 2, HedgingDelay: -time.Second},
		}}}, "methodConfig[0].hedgingPolicy.hedgingDelay", `"-1s" is negative`},
		{"no names", &rsc.Config{MethodConfigs: []rsc.MethodConfig{{Names: []rsc.Name{{Service: "s"}}}, {Timeout: time.Second}}}, "methodConfig[1].name", "empty list"},
		{"method without service", &rsc.Config{MethodConfigs: []rsc.MethodConfig{{Names: []rsc.Name{{Method: "M"}}}}}, "methodConfig[0].name[0]", `method "M" has no service`},
		{"duplicate names", &rsc.Config{MethodConfigs: []rsc.MethodConfig{{Names: []rsc.Name{{}}}, {Names: []rsc.Name{{Service: "a"}, {}}}}}, "methodConfig[1].name[1]", "{} duplicates methodConfig[0].name[0]"},
		{"timeout negative", &rsc.Config{MethodConfigs: []rsc.MethodConfig{{Names: []rsc.Name{{Service: "s"}}, Timeout: -time.Millisecond}}}, "methodConfig[0].timeout", `"-0.001s" is negative`},
		{"size negative", &rsc.Config{MethodConfigs: []rsc.MethodConfig{{Names: []rsc.Name{{Service: "s"}}, MaxResponseMessageBytes: ptr[int64](-5)}}}, "methodConfig[0].maxResponseMessageBytes", "-5 is negative"},
		{"maxTokens 0", &rsc.Config{RetryThrottling: &rsc.RetryThrottling{TokenRatio: 1}}, "retryThrottling.maxTokens", "0 is not in (0, 1000]"},
		{"tokenRatio -Inf", &rsc.Config{RetryThrottling: &rsc.RetryThrottling{MaxTokens: 1, TokenRatio: math.Inf(-1)}}, "retryThrottling.tokenRatio", "-Inf is not a finite number"},
		{"maxTokens NaN", &rsc.Config{RetryThrottling: &rsc.RetryThrottling{MaxTokens: math.NaN(), TokenRatio: 1}}, "retryThrottling.maxTokens", "NaN is not in (0, 1000]"},
		{"tokenRatio 0", &rsc.Config{RetryThrottling: &rsc.RetryThrottling{MaxTokens: 10}}, "retryThrottling.tokenRatio", "0 is not greater than 0"},
		{"tokenRatio 0.0001", &rsc.Config{RetryThrottling: &rsc.RetryThrottling{MaxTokens: 10, TokenRatio: 0.0001}}, "retryThrottling.tokenRatio", "0.0001 is 0 when truncated"},
		{"lb config not JSON", &rsc.Config{LoadBalancingConfig: json.RawMessage(`[{`)}, "loadBalancingConfig", "[{ is not valid JSON"},
		{"lb config not an array", &rsc.Config{LoadBalancingConfig: json.RawMessage(`{"round_robin":{}}`)}, "loadBalancingConfig", "is an object, not an array"},
		{"lb config empty", &rsc.Config{LoadBalancingConfig: json.RawMessage(`[]`)}, "loadBalancingConfig", "empty list"},
		{"lb config empty entry", &rsc.Config{LoadBalancingConfig: json.RawMessage(`[{}]`)}, "loadBalancingConfig[0]", "{} has 0 fields"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.Validate()
			var e *rsc.Error
			if !errors.As(err, &e) {
				t.Fatalf("Validate() = %v, want *rsc.Error at %q", err, tc.path)
			}
			if e.Path != tc.path || !strings.Contains(e.Msg, tc.value) {
				t.Errorf("Validate() = %v, want path %q and message containing %q", err, tc.path, tc.value)
			}
			if _, err2 := tc.c.Normalized(); err2 == nil || err2.Error() != err.Error() {
				t.Errorf("Normalized() = %v, want %v", err2, err)
			}
			if js, err2 := tc.c.MarshalJSON(); err2 == nil || err2.Error() != err.Error() {
				t.Errorf("MarshalJSON() = %s, %v; want %v", js, err2, err)
			}
			// The option must not panic, and grpc.NewClient must fail with
			// our message in its error.
			err2 := newClient(t, tc.c.DialOption())
			if err2 == nil || !strings.Contains(err2.Error(), err.Error()) {
				t.Errorf("grpc.NewClient(DialOption()) = %v, want an error containing %q", err2, err.Error())
			}
		})
	}
}

func TestValidateDoesNotModify(t *testing.T) {
	build := func() *rsc.Config {
		p := goodRetry()
		p.MaxAttempts = 6
		p.RetryableStatusCodes = []codes.Code{codes.Unavailable, codes.Aborted, codes.Unavailable}
		c := withRetry(p)
		c.RetryThrottling = &rsc.RetryThrottling{MaxTokens: 10, TokenRatio: 0.1239}
		c.LoadBalancingConfig = json.RawMessage(` [ {"round_robin": {}} ] `)
		return c
	}
	c := build()
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate() = %v, want nil (maxAttempts 6 and tokenRatio 0.1239 are valid)", err)
	}
	n, err := c.Normalized()
	if err != nil {
		t.Fatalf("Normalized() = %v, want nil error", err)
	}
	if _, err := c.MarshalJSON(); err != nil {
		t.Fatalf("MarshalJSON() = %v, want nil error", err)
	}
	_ = c.DialOption()
	if diff := cmp.Diff(build(), c); diff != "" {
		t.Errorf("Validate, Normalized, MarshalJSON and DialOption changed the config (-want +got):\n%s", diff)
	}

	want := withRetry(&rsc.RetryPolicy{
		MaxAttempts:          5,
		InitialBackoff:       100 * time.Millisecond,
		MaxBackoff:           time.Second,
		BackoffMultiplier:    2,
		RetryableStatusCodes: []codes.Code{codes.Unavailable, codes.Aborted},
	})
	want.RetryThrottling = &rsc.RetryThrottling{MaxTokens: 10, TokenRatio: 0.123}
	want.LoadBalancingConfig = json.RawMessage(`[{"round_robin":{}}]`)
	if diff := cmp.Diff(want, n); diff != "" {
		t.Errorf("Normalized() (-want +got):\n%s", diff)
	}
	// A deep copy: changing it leaves c alone.
	n.MethodConfigs[0].RetryPolicy.RetryableStatusCodes[0] = codes.Internal
	n.MethodConfigs[0].Names[0].Service = "changed"
	if diff := cmp.Diff(build(), c); diff != "" {
		t.Errorf("changing Normalized()'s result changed the config (-want +got):\n%s", diff)
	}
}

func TestValidStructLiteralDialOption(t *testing.T) {
	c := &rsc.Config{
		MethodConfigs: []rsc.MethodConfig{
			{Names: []rsc.Name{{Service: "s", Method: "m"}}, RetryPolicy: goodRetry()},
			{Names: []rsc.Name{{}}, HedgingPolicy: &rsc.HedgingPolicy{MaxAttempts: 8, NonFatalStatusCodes: []codes.Code{codes.Unavailable}}},
		},
		RetryThrottling: &rsc.RetryThrottling{MaxTokens: 1, TokenRatio: 0.5},
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate() = %v, want nil", err)
	}
	if err := newClient(t, c.DialOption()); err != nil {
		t.Errorf("grpc.NewClient(DialOption()) = %v, want nil", err)
	}
}

func TestEncodingJSON(t *testing.T) {
	type wrapper struct {
		Config *rsc.Config `json:"config"`
	}
	var w wrapper
	if err := json.Unmarshal([]byte(`{"config":null}`), &w); err != nil || w.Config != nil {
		t.Errorf("json.Unmarshal(null config) = %v, config %v; want nil, nil", err, w.Config)
	}
	err := json.Unmarshal([]byte(`{"config":{"methodConfig":[{"name":[{"service":"s"}],"timeout":"1"}]}}`), &w)
	var e *rsc.Error
	if !errors.As(err, &e) || e.Path != "methodConfig[0].timeout" {
		t.Errorf("json.Unmarshal(bad config) = %v, want *rsc.Error at methodConfig[0].timeout", err)
	}
	in := `{"config":{"methodConfig":[{"name":[{"service":"s"}],"timeout":"0.5s"}]}}`
	if err := json.Unmarshal([]byte(in), &w); err != nil {
		t.Fatalf("json.Unmarshal(%s) = %v, want nil", in, err)
	}
	out, err := json.Marshal(&w)
	if err != nil || string(out) != in {
		t.Errorf("json.Marshal(wrapper) = %s, %v; want %s, nil", out, err, in)
	}
}
