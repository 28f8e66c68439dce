package serviceconfig

import (
	"bytes"
	"encoding/json"
	"time"

	"google.golang.org/grpc/codes"

	rstatus "github.com/resilience-go/grpc-resilience/status"
)

// The json… types fix the A6 field names and order of the output.

type jsonConfig struct {
	LoadBalancingPolicy string             `json:"loadBalancingPolicy,omitempty"`
	LoadBalancingConfig json.RawMessage    `json:"loadBalancingConfig,omitempty"`
	MethodConfig        []jsonMethodConfig `json:"methodConfig,omitempty"`
	RetryThrottling     *jsonThrottling    `json:"retryThrottling,omitempty"`
	HealthCheckConfig   *jsonHealthCheck   `json:"healthCheckConfig,omitempty"`
}

type jsonThrottling struct {
	MaxTokens  float64 `json:"maxTokens"`
	TokenRatio float64 `json:"tokenRatio"`
}

type jsonHealthCheck struct {
	ServiceName string `json:"serviceName,omitempty"`
}

type jsonMethodConfig struct {
	Name                    []jsonName         `json:"name"`
	WaitForReady            *bool              `json:"waitForReady,omitempty"`
	Timeout                 jsonDuration       `json:"timeout,omitzero"`
	MaxRequestMessageBytes  *int64             `json:"maxRequestMessageBytes,omitempty"`
	MaxResponseMessageBytes *int64             `json:"maxResponseMessageBytes,omitempty"`
	RetryPolicy             *jsonRetryPolicy   `json:"retryPolicy,omitempty"`
	HedgingPolicy           *jsonHedgingPolicy `json:"hedgingPolicy,omitempty"`
}

type jsonName struct {
	Service string `json:"service,omitempty"`
	Method  string `json:"method,omitempty"`
}

type jsonRetryPolicy struct {
	MaxAttempts          int          `json:"maxAttempts"`
	InitialBackoff       jsonDuration `json:"initialBackoff"`
	MaxBackoff           jsonDuration `json:"maxBackoff"`
	BackoffMultiplier    float64      `json:"backoffMultiplier"`
	RetryableStatusCodes []jsonCode   `json:"retryableStatusCodes"`
}

type jsonHedgingPolicy struct {
	MaxAttempts         int          `json:"maxAttempts"`
	HedgingDelay        jsonDuration `json:"hedgingDelay,omitzero"`
	NonFatalStatusCodes []jsonCode   `json:"nonFatalStatusCodes,omitempty"`
}

// jsonDuration writes the proto3 JSON form of a duration.
type jsonDuration time.Duration

func (d jsonDuration) MarshalJSON() ([]byte, error) {
	return json.Marshal(formatDuration(time.Duration(d)))
}

// jsonCode writes a code's canonical upper-case name: grpc-go's parser
// accepts no other case.
type jsonCode codes.Code

func (c jsonCode) MarshalJSON() ([]byte, error) {
	return json.Marshal(rstatus.Name(codes.Code(c)))
}

// MarshalJSON writes the normalised form of c (see [Config.Normalized]) as
// A6 JSON that grpc-go accepts: fields in A6 camelCase and order, durations in
// proto3 form (100ms as "0.1s"), status codes as canonical upper-case names,
// unset optional fields left out. For every config c that [Parse] returned,
// Parse(Marshal(c)) equals c. An invalid c gives the [*Error] of
// [Config.Validate].
//
// encoding/json finds this method through a *Config or an addressable
// Config; marshal a pointer, or a plain Config value inside a struct passed
// by value is written field by field instead.
func (c *Config) MarshalJSON() ([]byte, error) {
	n, err := c.Normalized()
	if err != nil {
		return nil, err
	}
	out := jsonConfig{
		LoadBalancingPolicy: n.LoadBalancingPolicy,
		LoadBalancingConfig: n.LoadBalancingConfig,
	}
	if t := n.RetryThrottling; t != nil {
		out.RetryThrottling = &jsonThrottling{MaxTokens: t.MaxTokens, TokenRatio: t.TokenRatio}
	}
	if h := n.HealthCheckConfig; h != nil {
		out.HealthCheckConfig = &jsonHealthCheck{ServiceName: h.ServiceName}
	}
	for i := range n.MethodConfigs {
		out.MethodConfig = append(out.MethodConfig, marshalMethodConfig(&n.MethodConfigs[i]))
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func marshalMethodConfig(mc *MethodConfig) jsonMethodConfig {
	out := jsonMethodConfig{
		WaitForReady:            mc.WaitForReady,
		Timeout:                 jsonDuration(mc.Timeout),
		MaxRequestMessageBytes:  mc.MaxRequestMessageBytes,
		MaxResponseMessageBytes: mc.MaxResponseMessageBytes,
	}
	for _, n := range mc.Names {
		out.Name = append(out.Name, jsonName{Service: n.Service, Method: n.Method})
	}
	if p := mc.RetryPolicy; p != nil {
		out.RetryPolicy = &jsonRetryPolicy{
			MaxAttempts:          p.MaxAttempts,
			InitialBackoff:       jsonDuration(p.InitialBackoff),
			MaxBackoff:           jsonDuration(p.MaxBackoff),
			BackoffMultiplier:    p.BackoffMultiplier,
			RetryableStatusCodes: jsonCodes(p.RetryableStatusCodes),
		}
	}
	if p := mc.HedgingPolicy; p != nil {
		out.HedgingPolicy = &jsonHedgingPolicy{
			MaxAttempts:         p.MaxAttempts,
			HedgingDelay:        jsonDuration(p.HedgingDelay),
			NonFatalStatusCodes: jsonCodes(p.NonFatalStatusCodes),
		}
	}
	return out
}

func jsonCodes(cs []codes.Code) []jsonCode {
	var out []jsonCode
	for _, c := range cs {
		out = append(out, jsonCode(c))
	}
	return out
}
