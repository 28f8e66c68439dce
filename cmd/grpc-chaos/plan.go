package main

import (
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/resilience-go/grpc-resilience/cmd/grpc-chaos/internal/report"
	"github.com/resilience-go/grpc-resilience/interceptors"
	"github.com/resilience-go/grpc-resilience/retry"
	rsc "github.com/resilience-go/grpc-resilience/serviceconfig"
	rstatus "github.com/resilience-go/grpc-resilience/status"
)

// The default plan: the issue's "20% UNAVAILABLE, 5% of calls delayed 50 ms,
// 2% partial-stream failures". The partial-stream rules come first, so that
// of the two aborts the partial one is drawn first: an attempt of a stream
// kind fails after its first message with probability 2%, fails UNAVAILABLE
// before the handler with probability 98% × 20%, and succeeds otherwise.
const (
	defaultFaults = "/routeguide.RouteGuide/ListFeatures:internal=2%+after=1," +
		"/routeguide.RouteGuide/RecordRoute:internal=2%+after=1," +
		"/routeguide.RouteGuide/RouteChat:internal=2%+after=1," +
		"unavailable=20%,delay=50ms@5%"
	defaultSeed          = 1
	defaultCalls         = 1000
	defaultConcurrency   = 8
	defaultTimeout       = 2 * time.Second
	defaultRetryTimes    = 4
	defaultRetryInterval = 10 * time.Millisecond
	defaultConnect       = 5 * time.Second
	// maxConcurrency bounds --concurrency: each caller is a goroutine
	// with a call in flight.
	maxConcurrency = 10000
	// noFaults is the --faults value for an embedded server without faults.
	noFaults = "none"
)

// defaultRetryConfig is the a6-retry policy's service config: as many
// attempts as the manual policy makes, so the two can be compared, and a
// throttle that a 20% fault rate does not empty (each success gives back a
// token, each failure takes one).
const defaultRetryConfig = `{
  "methodConfig": [{
    "name": [{"service": "routeguide.RouteGuide"}],
    "retryPolicy": {
      "maxAttempts": 5, "initialBackoff": "0.01s", "maxBackoff": "0.1s",
      "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]
    }
  }],
  "retryThrottling": {"maxTokens": 100, "tokenRatio": 1}
}`

// defaultHedgeConfig is the a6-hedge policy's service config: a hedge every
// 10 ms, well under the 50 ms delays of the default plan, and at once after
// an UNAVAILABLE.
const defaultHedgeConfig = `{
  "methodConfig": [{
    "name": [{"service": "routeguide.RouteGuide"}],
    "hedgingPolicy": {
      "maxAttempts": 5, "hedgingDelay": "0.01s",
      "nonFatalStatusCodes": ["UNAVAILABLE"]
    }
  }],
  "retryThrottling": {"maxTokens": 100, "tokenRatio": 1}
}`

// policyNames lists the client policies in their default order.
var policyNames = []string{"none", "manual", "a6-retry", "a6-hedge"}

// policy is one way for the client to handle failures.
type policy struct {
	info report.PolicyInfo
	// opts are the interceptors' options; nil for the "none" policy, which
	// uses plain grpc-go without the interceptors.
	opts []interceptors.Option
	// cfg is the service config of the a6-* policies.
	cfg *rsc.Config
}

// dialOptions returns the policy's dial options, with obs watching every
// attempt.
func (p policy) dialOptions(obs retry.Observer) []grpc.DialOption {
	if p.opts == nil {
		// Not even a retry policy from a resolver's service config.
		return []grpc.DialOption{grpc.WithDisableRetry()}
	}
	return interceptors.DialOptions(append(p.opts[:len(p.opts):len(p.opts)], interceptors.WithObserver(obs))...)
}

// buildPolicies returns the policies named, in the order given. cfg, when
// not nil, is the --service-config: it must give every method of ks a
// retryPolicy, and then replaces the a6-retry policy's config, or give
// every one a hedgingPolicy, and then replaces the a6-hedge policy's.
func buildPolicies(names []string, ks []kind, retryTimes int, interval time.Duration, cfg *rsc.Config, cfgName string) ([]policy, error) {
	retryCfg, hedgeCfg := mustParse(defaultRetryConfig), mustParse(defaultHedgeConfig)
	retrySrc, hedgeSrc := "built in", "built in"
	if cfg != nil {
		retries, hedges := 0, 0
		for _, k := range ks {
			mc := cfg.MethodConfig(k.method)
			switch {
			case mc == nil:
				return nil, usagef("--service-config %s: no methodConfig matches %s; want a retryPolicy or a hedgingPolicy for every method run", cfgName, k.method)
			case mc.RetryPolicy != nil:
				retries++
			case mc.HedgingPolicy != nil:
				hedges++
			default:
				return nil, usagef("--service-config %s: the methodConfig of %s has neither a retryPolicy nor a hedgingPolicy", cfgName, k.method)
			}
		}
		switch {
		case retries > 0 && hedges > 0:
			return nil, usagef("--service-config %s: %d of the methods run have a retryPolicy and %d a hedgingPolicy; want one kind of policy for all, to compare it with the others", cfgName, retries, hedges)
		case retries > 0:
			retryCfg, retrySrc = cfg, cfgName
		default:
			hedgeCfg, hedgeSrc = cfg, cfgName
		}
	}
	var out []policy
	for _, name := range names {
		var p policy
		switch name {
		case "none":
			p.info = report.PolicyInfo{Name: name, Description: "plain grpc-go, no interceptors; grpc-go's own retries off (WithDisableRetry)"}
		case "manual":
			p.info = report.PolicyInfo{Name: name, Description: fmt.Sprintf("manual mode: %d retries, %v apart (WithRetryTimes, WithRetryInterval)", retryTimes, interval)}
			p.opts = []interceptors.Option{interceptors.WithRetryTimes(retryTimes), interceptors.WithRetryInterval(interval)}
		case "a6-retry":
			p = configPolicy(name, retryCfg, retrySrc)
		case "a6-hedge":
			p = configPolicy(name, hedgeCfg, hedgeSrc)
		}
		out = append(out, p)
	}
	return out, nil
}

// configPolicy is a policy driven by an A6 service config.
func configPolicy(name string, cfg *rsc.Config, src string) policy {
	js, err := cfg.MarshalJSON()
	if err != nil { // cfg was validated when parsed
		js = []byte(err.Error())
	}
	return policy{
		info: report.PolicyInfo{Name: name, Description: describeConfig(cfg) + " (service config: " + src + ")", ServiceConfig: string(js)},
		opts: []interceptors.Option{interceptors.WithServiceConfig(cfg)},
		cfg:  cfg,
	}
}

// describeConfig summarises the first retry or hedging policy of cfg.
func describeConfig(cfg *rsc.Config) string {
	var parts []string
	for _, mc := range cfg.MethodConfigs {
		if rp := mc.RetryPolicy; rp != nil {
			parts = append(parts, fmt.Sprintf("A6 retryPolicy: maxAttempts %d, backoff %v×%g up to %v, codes %s",
				min(rp.MaxAttempts, rsc.MaxAttemptsLimit), rp.InitialBackoff, rp.BackoffMultiplier, rp.MaxBackoff, codeList(rp.RetryableStatusCodes)))
			break
		}
		if hp := mc.HedgingPolicy; hp != nil {
			parts = append(parts, fmt.Sprintf("A6 hedgingPolicy: maxAttempts %d, delay %v, non-fatal %s",
				min(hp.MaxAttempts, rsc.MaxAttemptsLimit), hp.HedgingDelay, codeList(hp.NonFatalStatusCodes)))
			break
		}
	}
	if t := cfg.RetryThrottling; t != nil {
		parts = append(parts, fmt.Sprintf("throttling %g/%g", t.MaxTokens, t.TokenRatio))
	}
	return strings.Join(parts, "; ")
}

func codeList(cs []codes.Code) string {
	if len(cs) == 0 {
		return "none"
	}
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = rstatus.Name(c)
	}
	return strings.Join(names, "|")
}

// mustParse parses a built-in service config.
func mustParse(js string) *rsc.Config {
	cfg, err := rsc.Parse([]byte(js))
	if err != nil {
		panic("grpc-chaos: built-in service config: " + err.Error())
	}
	return cfg
}

// checkLB makes sure grpc-go takes the load balancing config of cfg, so that
// a bad one fails now, as bad input, and not when the first row dials.
func checkLB(cfg *rsc.Config, cfgName string) error {
	conn, err := grpc.NewClient("passthrough:///check", grpc.WithTransportCredentials(insecure.NewCredentials()), lbConfig(cfg))
	if err != nil {
		return usagef("--service-config %s: %v", cfgName, err)
	}
	return conn.Close()
}

// lbConfig is the load balancing the run's connections use: the service
// config's, if it names one, else round_robin, so that the retries and
// hedges of a call can land on other backends of a --target fleet.
func lbConfig(cfg *rsc.Config) grpc.DialOption {
	lb := &rsc.Config{LoadBalancingConfig: []byte(`[{"round_robin":{}}]`)}
	if cfg != nil && (cfg.LoadBalancingConfig != nil || cfg.LoadBalancingPolicy != "") {
		lb = &rsc.Config{LoadBalancingConfig: cfg.LoadBalancingConfig, LoadBalancingPolicy: cfg.LoadBalancingPolicy}
	}
	return lb.DialOption()
}
