package faultinject

import (
	"fmt"
	"math"
	"strings"
	"time"

	"google.golang.org/grpc/codes"

	rstatus "github.com/resilience-go/grpc-resilience/status"
)

// A Rule is one fault plan for the calls whose method it matches: an abort,
// a delay, or both, drawn independently as in Envoy's fault filter. A call
// is first delayed (if the delay fires), then aborted (if the abort fires).
type Rule struct {
	// Method selects the calls: a full method name
	// ("/routeguide.RouteGuide/GetFeature"), every method of a service
	// ("/routeguide.RouteGuide/*"), or every method ("" or "*").
	Method string
	// Abort fails calls; nil for none.
	Abort *Abort
	// Delay holds calls before their handler runs; nil for none.
	Delay *Delay
}

// Abort fails a call with a status code. Which calls it fails is set by
// exactly one trigger: Percent (a random share), First (the first attempts
// of every call) or Every (every Kth call).
type Abort struct {
	// Code is the status code returned; not OK.
	Code codes.Code
	// Message is the status message. Default: "faultinject: injected CODE".
	Message string
	// Percent is the share of matching calls aborted, in (0, 100].
	Percent float64
	// First aborts attempts 1 to First of every call, counted with the
	// grpc-previous-rpc-attempts header that retrying clients send (a
	// client that does not retry makes only attempt 1).
	First int
	// Every aborts matching calls number Every, 2*Every, 3*Every, ...
	// counted per rule.
	Every int
	// AfterMessages, when above zero, lets the call run and fails it once
	// AfterMessages messages have passed in either direction: the next
	// send or receive fails. The client has then seen response headers and
	// maybe messages, so it cannot retry. For a unary call it means the
	// handler runs and its response is replaced by the error. When zero the
	// call is aborted before its handler runs, with a trailers-only
	// response that a client can retry.
	AfterMessages int
	// AfterRequests, when above zero, lets the call run until its handler
	// has received AfterRequests request messages, then fails its next
	// receive, with no response headers sent unless the handler sent
	// some: the client has seen nothing of the call, so it may retry, and
	// must send every message again. It is the failure of an upload cut
	// off before the server answered. A unary or server-streaming call has
	// one request, so it fails before its handler runs, as with neither
	// option. At most one of
	// AfterMessages and AfterRequests is set.
	AfterRequests int
	// Pushback, when not nil, adds the trailer grpc-retry-pushback-ms with
	// this many milliseconds; a negative value asks the client not to
	// retry at all. It must be a whole number of milliseconds.
	Pushback *time.Duration
}

// Delay holds a call for Duration, plus or minus a uniform Jitter (never
// below zero), before its handler runs. A delay ends early when the call is
// cancelled.
type Delay struct {
	Duration time.Duration
	Jitter   time.Duration
	// Percent is the share of matching calls delayed, in (0, 100].
	Percent float64
}

// Validate reports the first problem with the rule, naming the field and its
// value.
func (r Rule) Validate() error {
	if err := r.validate(); err != nil {
		return fmt.Errorf("faultinject: %w", err)
	}
	return nil
}

func (r Rule) validate() error {
	if err := validMethod(r.Method); err != nil {
		return err
	}
	if r.Abort == nil && r.Delay == nil {
		return fmt.Errorf("rule for %s: neither abort nor delay is set", methodLabel(r.Method))
	}
	if a := r.Abort; a != nil {
		if a.Code == codes.OK || a.Code > codes.Unauthenticated {
			return fmt.Errorf("abort.code: %d is not a failing status code (1-16)", uint32(a.Code))
		}
		if err := validPercent("abort.percent", a.Percent); err != nil {
			return err
		}
		if a.First < 0 {
			return fmt.Errorf("abort.first: %d is negative", a.First)
		}
		if a.Every < 0 {
			return fmt.Errorf("abort.every: %d is negative", a.Every)
		}
		if a.AfterMessages < 0 {
			return fmt.Errorf("abort.afterMessages: %d is negative", a.AfterMessages)
		}
		if a.AfterRequests < 0 {
			return fmt.Errorf("abort.afterRequests: %d is negative", a.AfterRequests)
		}
		if a.AfterMessages > 0 && a.AfterRequests > 0 {
			return fmt.Errorf("abort: afterMessages %d and afterRequests %d: set only one", a.AfterMessages, a.AfterRequests)
		}
		triggers := 0
		for _, set := range []bool{a.Percent != 0, a.First != 0, a.Every != 0} {
			if set {
				triggers++
			}
		}
		if triggers == 0 {
			return fmt.Errorf("abort: no trigger: set percent (above 0), first or every")
		}
		if triggers > 1 {
			return fmt.Errorf("abort: percent %v, first %d and every %d: set only one", a.Percent, a.First, a.Every)
		}
		if a.Pushback != nil && *a.Pushback%time.Millisecond != 0 {
			return fmt.Errorf("abort.pushback: %v is not a whole number of milliseconds", *a.Pushback)
		}
	}
	if d := r.Delay; d != nil {
		if d.Duration < 0 {
			return fmt.Errorf("delay.duration: %v is negative", d.Duration)
		}
		if d.Jitter < 0 {
			return fmt.Errorf("delay.jitter: %v is negative", d.Jitter)
		}
		if d.Duration == 0 && d.Jitter == 0 {
			return fmt.Errorf("delay.duration: 0s delays nothing")
		}
		if err := validPercent("delay.percent", d.Percent); err != nil {
			return err
		}
		if d.Percent == 0 {
			return fmt.Errorf("delay.percent: 0 delays nothing")
		}
	}
	return nil
}

func validPercent(field string, p float64) error {
	if math.IsNaN(p) || p < 0 || p > 100 {
		return fmt.Errorf("%s: %v is not in [0, 100]", field, p)
	}
	return nil
}

// validMethod accepts "", "*", "/svc/*" and "/svc/method".
func validMethod(m string) error {
	if m == "" || m == "*" {
		return nil
	}
	svc, name, ok := strings.Cut(strings.TrimPrefix(m, "/"), "/")
	if !strings.HasPrefix(m, "/") || !ok || svc == "" || name == "" ||
		strings.ContainsAny(svc, "/* \t,:+") || strings.ContainsAny(name, "/ \t,:+") ||
		(name != "*" && strings.Contains(name, "*")) {
		return fmt.Errorf("method %q: want \"/package.Service/Method\", \"/package.Service/*\" or \"*\"", m)
	}
	return nil
}

func methodLabel(m string) string {
	if m == "" || m == "*" {
		return "every method"
	}
	return m
}

// matches reports whether the rule's method pattern selects fullMethod.
func matches(pattern, fullMethod string) bool {
	switch {
	case pattern == "" || pattern == "*":
		return true
	case strings.HasSuffix(pattern, "/*"):
		prefix := pattern[:len(pattern)-1] // keeps the slash
		return len(fullMethod) > len(prefix) && strings.HasPrefix(fullMethod, prefix) &&
			!strings.Contains(fullMethod[len(prefix):], "/")
	default:
		return pattern == fullMethod
	}
}

// message returns the status message of an abort.
func (a *Abort) message() string {
	if a.Message != "" {
		return a.Message
	}
	return "faultinject: injected " + rstatus.Name(a.Code)
}
