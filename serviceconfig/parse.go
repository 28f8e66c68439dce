package serviceconfig

import (
	"bytes"
	"encoding/json"
	"errors"
)

// Parse decodes an A6 service config strictly and returns it validated and
// normalised (see [Config.Normalized]).
//
// Strict means: JSON syntax errors give a line and column; unknown fields,
// fields given twice in one object, values of the wrong JSON type, missing
// required fields and values out of range are errors; empty input and a bare
// null are errors. A member whose value is null counts as absent. The
// returned error is an [*Error] naming the JSON path of the first bad field
// and quoting its value.
func Parse(data []byte) (*Config, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &Error{Msg: "empty input, want a JSON object"}
	}
	// Every step after this one relies on valid JSON. json.Valid checks
	// the whole input, trailing data included, without building anything;
	// Unmarshal then finds the error's place.
	if !json.Valid(data) {
		err := json.Unmarshal(data, new(json.RawMessage))
		if err == nil {
			err = errInvalidJSON
		}
		return nil, syntaxError(data, err)
	}
	if err := checkDuplicates(data); err != nil {
		return nil, err
	}
	if kind(data) == kindNull {
		return nil, &Error{Msg: "null is not a service config, want a JSON object"}
	}
	var c Config
	if err := decodeConfig(data, &c); err != nil {
		return nil, err
	}
	return c.Normalized()
}

// UnmarshalJSON is [Parse]: strict, validating and normalising. Unlike most
// UnmarshalJSON methods it rejects null; encoding/json never calls it for a
// null *Config, which it sets to nil itself.
func (c *Config) UnmarshalJSON(data []byte) error {
	p, err := Parse(data)
	if err != nil {
		return err
	}
	*c = *p
	return nil
}

func decodeConfig(raw json.RawMessage, c *Config) error {
	return decodeObject(raw, "", []field{
		{name: "loadBalancingPolicy", decode: func(raw json.RawMessage, path string) (err error) {
			c.LoadBalancingPolicy, err = decodeString(raw, path)
			return err
		}},
		{name: "loadBalancingConfig", decode: func(raw json.RawMessage, path string) error {
			if err := expect(raw, path, kindArray); err != nil {
				return err
			}
			c.LoadBalancingConfig = raw
			return nil
		}},
		{name: "methodConfig", decode: func(raw json.RawMessage, path string) error {
			return decodeArray(raw, path, func(raw json.RawMessage, path string) error {
				var mc MethodConfig
				err := decodeMethodConfig(raw, path, &mc)
				c.MethodConfigs = append(c.MethodConfigs, mc)
				return err
			})
		}},
		{name: "retryThrottling", decode: func(raw json.RawMessage, path string) error {
			c.RetryThrottling = new(RetryThrottling)
			return decodeRetryThrottling(raw, path, c.RetryThrottling)
		}},
		{name: "healthCheckConfig", decode: func(raw json.RawMessage, path string) error {
			c.HealthCheckConfig = new(HealthCheckConfig)
			return decodeObject(raw, path, []field{
				{name: "serviceName", decode: func(raw json.RawMessage, path string) (err error) {
					c.HealthCheckConfig.ServiceName, err = decodeString(raw, path)
					return err
				}},
			})
		}},
	})
}

func decodeMethodConfig(raw json.RawMessage, path string, mc *MethodConfig) error {
	return decodeObject(raw, path, []field{
		{name: "name", required: true, decode: func(raw json.RawMessage, path string) error {
			return decodeArray(raw, path, func(raw json.RawMessage, path string) error {
				var n Name
				err := decodeName(raw, path, &n)
				mc.Names = append(mc.Names, n)
				return err
			})
		}},
		{name: "waitForReady", decode: func(raw json.RawMessage, path string) error {
			b, err := decodeBool(raw, path)
			mc.WaitForReady = &b
			return err
		}},
		{name: "timeout", decode: func(raw json.RawMessage, path string) (err error) {
			mc.Timeout, err = decodeDuration(raw, path)
			if err == nil && mc.Timeout == 0 {
				// The struct uses 0 for "no timeout", but grpc-go would give
				// every call an expired deadline; refuse the ambiguity.
				return errorf(path, "%s would fail every call at once in grpc-go; omit timeout for no default deadline", show(raw))
			}
			return err
		}},
		{name: "maxRequestMessageBytes", decode: func(raw json.RawMessage, path string) error {
			n, err := decodeInt(raw, path)
			mc.MaxRequestMessageBytes = &n
			return err
		}},
		{name: "maxResponseMessageBytes", decode: func(raw json.RawMessage, path string) error {
			n, err := decodeInt(raw, path)
			mc.MaxResponseMessageBytes = &n
			return err
		}},
		{name: "retryPolicy", decode: func(raw json.RawMessage, path string) error {
			mc.RetryPolicy = new(RetryPolicy)
			return decodeRetryPolicy(raw, path, mc.RetryPolicy)
		}},
		{name: "hedgingPolicy", decode: func(raw json.RawMessage, path string) error {
			mc.HedgingPolicy = new(HedgingPolicy)
			return decodeHedgingPolicy(raw, path, mc.HedgingPolicy)
		}},
	})
}

func decodeName(raw json.RawMessage, path string, n *Name) error {
	return decodeObject(raw, path, []field{
		{name: "service", decode: func(raw json.RawMessage, path string) (err error) {
			n.Service, err = decodeString(raw, path)
			return err
		}},
		{name: "method", decode: func(raw json.RawMessage, path string) (err error) {
			n.Method, err = decodeString(raw, path)
			return err
		}},
	})
}

func decodeRetryPolicy(raw json.RawMessage, path string, p *RetryPolicy) error {
	return decodeObject(raw, path, []field{
		{name: "maxAttempts", required: true, decode: func(raw json.RawMessage, path string) (err error) {
			p.MaxAttempts, err = decodeIntField(raw, path)
			return err
		}},
		{name: "initialBackoff", required: true, decode: func(raw json.RawMessage, path string) (err error) {
			p.InitialBackoff, err = decodeDuration(raw, path)
			return err
		}},
		{name: "maxBackoff", required: true, decode: func(raw json.RawMessage, path string) (err error) {
			p.MaxBackoff, err = decodeDuration(raw, path)
			return err
		}},
		{name: "backoffMultiplier", required: true, decode: func(raw json.RawMessage, path string) (err error) {
			p.BackoffMultiplier, err = decodeFloat(raw, path)
			return err
		}},
		{name: "retryableStatusCodes", required: true, decode: func(raw json.RawMessage, path string) (err error) {
			p.RetryableStatusCodes, err = decodeCodes(raw, path)
			return err
		}},
	})
}

func decodeHedgingPolicy(raw json.RawMessage, path string, p *HedgingPolicy) error {
	return decodeObject(raw, path, []field{
		{name: "maxAttempts", required: true, decode: func(raw json.RawMessage, path string) (err error) {
			p.MaxAttempts, err = decodeIntField(raw, path)
			return err
		}},
		{name: "hedgingDelay", decode: func(raw json.RawMessage, path string) (err error) {
			p.HedgingDelay, err = decodeDuration(raw, path)
			return err
		}},
		{name: "nonFatalStatusCodes", decode: func(raw json.RawMessage, path string) (err error) {
			p.NonFatalStatusCodes, err = decodeCodes(raw, path)
			return err
		}},
	})
}

func decodeRetryThrottling(raw json.RawMessage, path string, t *RetryThrottling) error {
	return decodeObject(raw, path, []field{
		{name: "maxTokens", required: true, decode: func(raw json.RawMessage, path string) (err error) {
			t.MaxTokens, err = decodeFloat(raw, path)
			return err
		}},
		{name: "tokenRatio", required: true, decode: func(raw json.RawMessage, path string) (err error) {
			t.TokenRatio, err = decodeFloat(raw, path)
			return err
		}},
	})
}

// errInvalidJSON stands in for the error of input that json.Valid refused
// and json.Unmarshal accepted, which should not happen.
var errInvalidJSON = errors.New("invalid JSON")
