package faultinject

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
)

// The request headers a client may use to ask for faults when the server
// enabled WithHeaderControl. They are Envoy's fault-filter headers, so the
// same test can drive an Envoy or Istio mesh.
const (
	// HeaderAbortCode asks for an abort with this status code, as a
	// number from 1 to 16.
	HeaderAbortCode = "x-envoy-fault-abort-grpc-request"
	// HeaderAbortPercent is the share of such calls to abort, a number in
	// [0, 100]. Default: 100.
	HeaderAbortPercent = "x-envoy-fault-abort-request-percentage"
	// HeaderDelay asks for a delay of this many milliseconds, a whole
	// number from 0 to MaxHeaderDelay.
	HeaderDelay = "x-envoy-fault-delay-request"
	// HeaderDelayPercent is the share of such calls to delay, a number in
	// [0, 100]. Default: 100.
	HeaderDelayPercent = "x-envoy-fault-delay-request-percentage"
)

// MaxHeaderDelay is the longest delay a request header may ask for; a
// longer one is rejected, so a client cannot park server goroutines for
// ever.
const MaxHeaderDelay = time.Minute

// headerFaults reads the fault-control headers of a call and adds the faults
// they ask for to p, where p has none of that kind yet. Malformed values are
// counted and reported, never obeyed.
func (in *Injector) headerFaults(ctx context.Context, method string, p *plan) {
	reject := func(key, val, why string) {
		in.c.headerRejected.Add(1)
		in.emit(Event{Kind: KindHeaderRejected, Method: method, Seq: p.seq, Attempt: p.attemptFor(ctx), Rule: -1,
			Detail: fmt.Sprintf("%s: %q %s", key, val, why)})
	}
	if code, ok := headerInt(ctx, HeaderAbortCode, 1, int64(codes.Unauthenticated), reject); ok {
		if pct, ok := headerPercent(ctx, HeaderAbortPercent, reject); ok && p.abort == nil &&
			hits(in.src.float(p.seq, -1, drawHeaderAbort), pct) {
			p.abort = &Abort{Code: codes.Code(code), Percent: pct}
			p.abortRule = -1
		}
	}
	if ms, ok := headerInt(ctx, HeaderDelay, 0, MaxHeaderDelay.Milliseconds(), reject); ok {
		if pct, ok := headerPercent(ctx, HeaderDelayPercent, reject); ok && !p.delayed &&
			hits(in.src.float(p.seq, -1, drawHeaderDelay), pct) {
			p.delay, p.delayed, p.delayRule = time.Duration(ms)*time.Millisecond, true, -1
		}
	}
}

// header returns the single value of key. ok is false when the header is
// absent; a repeated header is rejected.
func header(ctx context.Context, key string, reject func(key, val, why string)) (val string, ok bool) {
	vals := metadata.ValueFromIncomingContext(ctx, key)
	switch len(vals) {
	case 0:
		return "", false
	case 1:
		return vals[0], true
	default:
		reject(key, fmt.Sprint(vals), "is repeated")
		return "", false
	}
}

// headerInt reads a whole number in [lo, hi].
func headerInt(ctx context.Context, key string, lo, hi int64, reject func(key, val, why string)) (int64, bool) {
	v, ok := header(ctx, key, reject)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	switch {
	case err != nil || v[0] == '+':
		reject(key, v, "is not a whole number")
	case n < lo || n > hi:
		reject(key, v, fmt.Sprintf("is not in [%d, %d]", lo, hi))
	default:
		return n, true
	}
	return 0, false
}

// headerPercent reads a share in [0, 100]; an absent header means 100.
func headerPercent(ctx context.Context, key string, reject func(key, val, why string)) (float64, bool) {
	v, ok := header(ctx, key, reject)
	if !ok {
		return 100, true
	}
	p, err := strconv.ParseFloat(v, 64)
	switch {
	case err != nil || !isDecimal(v):
		reject(key, v, "is not a number")
	case p < 0 || p > 100:
		reject(key, v, "is not in [0, 100]")
	default:
		return p, true
	}
	return 0, false
}
