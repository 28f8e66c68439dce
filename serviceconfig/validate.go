package serviceconfig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"

	rstatus "github.com/resilience-go/grpc-resilience/status"
)

// Validate checks c against the rules [Parse] applies, for configs written as
// Go struct literals. It never modifies c: values that A6 lowers rather than
// rejects (MaxAttempts above [MaxAttemptsLimit], a TokenRatio with more than 3
// decimal places) are valid here, and [Config.Normalized] applies them. The
// error is an [*Error] naming the A6 JSON path of the first bad field.
func (c *Config) Validate() error {
	if c == nil {
		return &Error{Msg: "nil *Config"}
	}
	if c.LoadBalancingConfig != nil {
		if err := validateLBConfig(c.LoadBalancingConfig); err != nil {
			return err
		}
	}
	type position struct{ entry, name int }
	seen := make(map[Name]position)
	for i := range c.MethodConfigs {
		mc := &c.MethodConfigs[i]
		path := joinIndex("methodConfig", i)
		if len(mc.Names) == 0 {
			return errorf(path+".name", "empty list, want at least one name")
		}
		for j, n := range mc.Names {
			npath := joinIndex(path+".name", j)
			if err := validateName(n, npath); err != nil {
				return err
			}
			if first, dup := seen[n]; dup {
				return errorf(npath, "%s duplicates methodConfig[%d].name[%d]", n.json(), first.entry, first.name)
			}
			seen[n] = position{i, j}
		}
		if err := validateMethodConfig(mc, path); err != nil {
			return err
		}
	}
	if t := c.RetryThrottling; t != nil {
		path := "retryThrottling"
		if !(t.MaxTokens > 0 && t.MaxTokens <= MaxTokensLimit) {
			return errorf(path+".maxTokens", "%s is not in (0, %d]", formatFloat(t.MaxTokens), MaxTokensLimit)
		}
		if err := positiveNumber(t.TokenRatio, path+".tokenRatio"); err != nil {
			return err
		}
		if truncate3(t.TokenRatio) == 0 {
			return errorf(path+".tokenRatio", "%s is 0 when truncated to 3 decimal places", formatFloat(t.TokenRatio))
		}
	}
	return nil
}

func validateName(n Name, path string) error {
	if n.Service == "" && n.Method != "" {
		return errorf(path, "method %q has no service; only the default entry {} may leave out the service", n.Method)
	}
	if strings.Contains(n.Service, "/") {
		return errorf(path+".service", "%q contains \"/\"; want a service name like \"pkg.Service\"", n.Service)
	}
	if strings.Contains(n.Method, "/") {
		return errorf(path+".method", "%q contains \"/\"; want a bare method name", n.Method)
	}
	return nil
}

func validateMethodConfig(mc *MethodConfig, path string) error {
	if mc.Timeout < 0 {
		// grpc-go accepts a negative timeout and then ignores it.
		return errorf(path+".timeout", "%q is negative", formatDuration(mc.Timeout))
	}
	if n := mc.MaxRequestMessageBytes; n != nil && *n < 0 {
		return errorf(path+".maxRequestMessageBytes", "%d is negative", *n)
	}
	if n := mc.MaxResponseMessageBytes; n != nil && *n < 0 {
		return errorf(path+".maxResponseMessageBytes", "%d is negative", *n)
	}
	if mc.RetryPolicy != nil && mc.HedgingPolicy != nil {
		return errorf(path, "has both retryPolicy and hedgingPolicy; A6 allows one per method")
	}
	if p := mc.RetryPolicy; p != nil {
		path := path + ".retryPolicy"
		if p.MaxAttempts <= 1 {
			return errorf(path+".maxAttempts", "%d is not greater than 1", p.MaxAttempts)
		}
		if err := positiveDuration(p.InitialBackoff, path+".initialBackoff"); err != nil {
			return err
		}
		if err := positiveDuration(p.MaxBackoff, path+".maxBackoff"); err != nil {
			return err
		}
		if err := positiveNumber(p.BackoffMultiplier, path+".backoffMultiplier"); err != nil {
			return err
		}
		if len(p.RetryableStatusCodes) == 0 {
			return errorf(path+".retryableStatusCodes", "empty list, want at least one status code")
		}
		if err := validateCodes(p.RetryableStatusCodes, path+".retryableStatusCodes"); err != nil {
			return err
		}
	}
	if p := mc.HedgingPolicy; p != nil {
		path := path + ".hedgingPolicy"
		if p.MaxAttempts <= 1 {
			return errorf(path+".maxAttempts", "%d is not greater than 1", p.MaxAttempts)
		}
		if p.HedgingDelay < 0 {
			return errorf(path+".hedgingDelay", "%q is negative", formatDuration(p.HedgingDelay))
		}
		if err := validateCodes(p.NonFatalStatusCodes, path+".nonFatalStatusCodes"); err != nil {
			return err
		}
	}
	return nil
}

// positiveNumber rejects what JSON cannot hold (NaN, infinities) as well as
// numbers <= 0.
func positiveNumber(f float64, path string) error {
	if math.IsInf(f, 0) {
		return errorf(path, "%s is not a finite number", formatFloat(f))
	}
	if !(f > 0) {
		return errorf(path, "%s is not greater than 0", formatFloat(f))
	}
	return nil
}

func positiveDuration(d time.Duration, path string) error {
	if d <= 0 {
		return errorf(path, "%q is not greater than 0", formatDuration(d))
	}
	return nil
}

func validateCodes(cs []codes.Code, path string) error {
	for i, c := range cs {
		if _, ok := rstatus.Lookup(c); !ok {
			return errorf(joinIndex(path, i), "%d is not a status code from 0 to 16", uint32(c))
		}
	}
	return nil
}

// validateLBConfig applies the shape grpc-go requires: a non-empty array of
// objects that each hold exactly one policy. Whether grpc-go knows the
// policies is up to the balancers registered in the program.
func validateLBConfig(raw json.RawMessage) error {
	const path = "loadBalancingConfig"
	if !json.Valid(raw) {
		return errorf(path, "%s is not valid JSON", shorten(string(raw)))
	}
	if err := expect(raw, path, kindArray); err != nil {
		return err
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return syntaxError(raw, err)
	}
	if len(elems) == 0 {
		return errorf(path, "empty list; leave loadBalancingConfig out for grpc's default")
	}
	for i, e := range elems {
		epath := joinIndex(path, i)
		members, err := objectMembers(e, epath)
		if err != nil {
			return err
		}
		if len(members) != 1 {
			return errorf(epath, "%s has %d fields, want exactly one policy name", show(e), len(members))
		}
	}
	return nil
}

// Normalized validates c and returns a deep copy with A6's adjustments
// applied, leaving c untouched:
//
//   - maxAttempts above [MaxAttemptsLimit] is lowered to it;
//   - tokenRatio is truncated to 3 decimal places;
//   - repeated status codes are dropped, first-seen order kept;
//   - empty lists become nil and LoadBalancingConfig is compacted, so that
//     configs that mean the same compare equal.
//
// [Parse] always returns normalised configs, and [Config.MarshalJSON] writes
// the normalised form.
func (c *Config) Normalized() (*Config, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	out := &Config{
		LoadBalancingPolicy: c.LoadBalancingPolicy,
	}
	if c.LoadBalancingConfig != nil {
		var b bytes.Buffer
		_ = json.Compact(&b, c.LoadBalancingConfig) // valid: checked above
		out.LoadBalancingConfig = json.RawMessage(b.Bytes())
	}
	if len(c.MethodConfigs) > 0 {
		out.MethodConfigs = make([]MethodConfig, len(c.MethodConfigs))
		for i := range c.MethodConfigs {
			out.MethodConfigs[i] = c.MethodConfigs[i].normalized()
		}
	}
	if t := c.RetryThrottling; t != nil {
		out.RetryThrottling = &RetryThrottling{MaxTokens: t.MaxTokens, TokenRatio: truncate3(t.TokenRatio)}
	}
	if h := c.HealthCheckConfig; h != nil {
		out.HealthCheckConfig = &HealthCheckConfig{ServiceName: h.ServiceName}
	}
	return out, nil
}

func (mc *MethodConfig) normalized() MethodConfig {
	out := MethodConfig{
		Names:                   slices.Clone(mc.Names),
		WaitForReady:            clonePtr(mc.WaitForReady),
		Timeout:                 mc.Timeout,
		MaxRequestMessageBytes:  clonePtr(mc.MaxRequestMessageBytes),
		MaxResponseMessageBytes: clonePtr(mc.MaxResponseMessageBytes),
	}
	if p := mc.RetryPolicy; p != nil {
		out.RetryPolicy = &RetryPolicy{
			MaxAttempts:          min(p.MaxAttempts, MaxAttemptsLimit),
			InitialBackoff:       p.InitialBackoff,
			MaxBackoff:           p.MaxBackoff,
			BackoffMultiplier:    p.BackoffMultiplier,
			RetryableStatusCodes: dedupe(p.RetryableStatusCodes),
		}
	}
	if p := mc.HedgingPolicy; p != nil {
		out.HedgingPolicy = &HedgingPolicy{
			MaxAttempts:         min(p.MaxAttempts, MaxAttemptsLimit),
			HedgingDelay:        p.HedgingDelay,
			NonFatalStatusCodes: dedupe(p.NonFatalStatusCodes),
		}
	}
	return out
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// dedupe returns a fresh copy of cs without repeats, or nil when cs is empty.
func dedupe(cs []codes.Code) []codes.Code {
	var out []codes.Code
	for _, c := range cs {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// truncate3 truncates f to 3 decimal places, working on its shortest decimal
// form so that 1.005 stays 1.005 (1.005*1000 is 1004.999... in binary).
func truncate3(f float64) float64 {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if whole, frac, ok := strings.Cut(s, "."); ok && len(frac) > 3 {
		t, _ := strconv.ParseFloat(whole+"."+frac[:3], 64)
		return t
	}
	return f
}

// formatFloat renders a float as JSON would.
func formatFloat(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Sprint(f)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// json renders a name as its A6 JSON object, for error messages.
func (n Name) json() string {
	b, _ := json.Marshal(jsonName{Service: n.Service, Method: n.Method})
	return string(b)
}
