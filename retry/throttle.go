package retry

import (
	"fmt"
	"math"
	"sync"
)

// Throttle is the retry throttle of gRFC A6, a token bucket shared by every
// call to one target (one per ClientConn target). It starts full at maxTokens;
// each attempt that fails with a retryable code takes one token, each
// successful call gives back tokenRatio; while the tokens are at or below
// maxTokens/2, no retry or further hedge is sent. The first attempt of a call
// always goes out.
//
// A Throttle is safe for concurrent use. A nil *Throttle never throttles.
type Throttle struct {
	mu     sync.Mutex
	tokens float64
	max    float64
	ratio  float64
}

// NewThrottle returns a full throttle. maxTokens must be in (0, 1000] and
// tokenRatio a finite number greater than 0. tokenRatio is used as given: A6's
// three-decimal truncation belongs to the service config, and a config from
// rsc.Parse or rsc.Normalized has it applied already.
func NewThrottle(maxTokens, tokenRatio float64) (*Throttle, error) {
	if !(maxTokens > 0 && maxTokens <= 1000) {
		return nil, fmt.Errorf("retry throttle: maxTokens %v is not in (0, 1000]", maxTokens)
	}
	if !(tokenRatio > 0) || math.IsInf(tokenRatio, 0) {
		return nil, fmt.Errorf("retry throttle: tokenRatio %v is not a finite number greater than 0", tokenRatio)
	}
	return &Throttle{tokens: maxTokens, max: maxTokens, ratio: tokenRatio}, nil
}

// Failure records an attempt that failed with a retryable code and reports
// whether retries are now throttled.
func (t *Throttle) Failure() (throttled bool) {
	if t == nil {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.tokens = math.Max(0, t.tokens-1)
	return t.tokens <= t.max/2
}

// Success records a successful call.
func (t *Throttle) Success() {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.tokens = math.Min(t.max, t.tokens+t.ratio)
	t.mu.Unlock()
}

// Allowed reports whether a retry or hedge may be sent now, without changing
// the tokens.
func (t *Throttle) Allowed() bool {
	if t == nil {
		return true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.tokens > t.max/2
}

// Tokens returns the tokens held now.
func (t *Throttle) Tokens() float64 {
	if t == nil {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.tokens
}
