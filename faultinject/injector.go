package faultinject

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/metadata"
)

// previousAttemptsKey is the header a retrying or hedging gRPC client sends
// with every attempt after the first.
const previousAttemptsKey = "grpc-previous-rpc-attempts"

// An Injector decides, call by call, which faults to inject, and serves them
// through its interceptors. It is safe for concurrent use; its rules can be
// replaced while it serves.
type Injector struct {
	set  atomic.Pointer[ruleSet]
	src  source
	opts options
	seq  atomic.Uint64 // calls seen; also the key of each call's draws
	c    counters
}

// ruleSet is an immutable list of rules with the per-rule call counters of
// Abort.Every. Replacing the rules replaces the counters too.
type ruleSet struct {
	rules []Rule
	every []atomic.Uint64
}

// New returns an injector for rules (which may be empty), after checking
// them: an invalid rule is an error naming its index and field.
func New(rules []Rule, opts ...Option) (*Injector, error) {
	o := newOptions(opts)
	if o.maxActive < 0 {
		return nil, fmt.Errorf("faultinject: WithMaxActiveFaults: %d is negative", o.maxActive)
	}
	in := &Injector{src: newSource(o.seed, o.seeded), opts: o}
	if err := in.SetRules(rules); err != nil {
		return nil, err
	}
	return in, nil
}

// SetRules replaces the injector's rules, after checking them; calls already
// running keep the faults decided for them. Every-K counting starts again.
func (in *Injector) SetRules(rules []Rule) error {
	for i, r := range rules {
		if err := r.validate(); err != nil {
			return fmt.Errorf("faultinject: rule %d: %w", i, err)
		}
	}
	in.set.Store(&ruleSet{rules: cloneRules(rules), every: make([]atomic.Uint64, len(rules))})
	return nil
}

// Rules returns a copy of the injector's rules.
func (in *Injector) Rules() []Rule { return cloneRules(in.set.Load().rules) }

func cloneRules(rules []Rule) []Rule {
	out := make([]Rule, len(rules))
	for i, r := range rules {
		if r.Abort != nil {
			a := *r.Abort
			if a.Pushback != nil {
				pb := *a.Pushback
				a.Pushback = &pb
			}
			r.Abort = &a
		}
		if r.Delay != nil {
			d := *r.Delay
			r.Delay = &d
		}
		out[i] = r
	}
	return out
}

// plan is what happens to one call.
type plan struct {
	seq       uint64
	attempt   int // 0 until read
	delayed   bool
	delay     time.Duration
	delayRule int
	abort     *Abort
	abortRule int
}

// attemptFor returns the call's attempt number, reading the header once.
func (p *plan) attemptFor(ctx context.Context) int {
	if p.attempt == 0 {
		p.attempt = 1
		if v := metadata.ValueFromIncomingContext(ctx, previousAttemptsKey); len(v) == 1 {
			if n, err := strconv.Atoi(v[0]); err == nil && n > 0 {
				p.attempt = n + 1
			}
		}
	}
	return p.attempt
}

// decide draws the faults of a new call. ok is false when the call runs
// untouched; otherwise the call holds an active-fault slot until release.
func (in *Injector) decide(ctx context.Context, method string) (p plan, ok bool) {
	p.seq = in.seq.Add(1)
	set := in.set.Load()
	for i := range set.rules {
		r := &set.rules[i]
		if !matches(r.Method, method) {
			continue
		}
		if d := r.Delay; d != nil && !p.delayed && hits(in.src.float(p.seq, i, drawDelay), d.Percent) {
			p.delayed, p.delayRule = true, i
			p.delay = d.Duration
			if d.Jitter > 0 {
				u := in.src.float(p.seq, i, drawJitter)
				p.delay += time.Duration((2*u - 1) * float64(d.Jitter))
				p.delay = max(p.delay, 0)
			}
		}
		if a := r.Abort; a != nil {
			var fire bool
			switch {
			case a.Every > 0:
				fire = set.every[i].Add(1)%uint64(a.Every) == 0
			case a.First > 0:
				fire = p.attemptFor(ctx) <= a.First
			default:
				fire = hits(in.src.float(p.seq, i, drawAbort), a.Percent)
			}
			if fire && p.abort == nil {
				p.abort, p.abortRule = a, i
			}
		}
	}
	if in.opts.headerControl {
		in.headerFaults(ctx, method, &p)
	}
	if !p.delayed && p.abort == nil {
		return p, false
	}
	if !in.acquire() {
		in.c.skipped.Add(1)
		in.emit(Event{Kind: KindSkipped, Method: method, Seq: p.seq, Attempt: p.attemptFor(ctx), Rule: p.firstRule()})
		return p, false
	}
	return p, true
}

// acquire takes an active-fault slot, or reports that the cap is reached.
func (in *Injector) acquire() bool {
	limit := int64(in.opts.maxActive)
	for {
		n := in.c.active.Load()
		if limit > 0 && n >= limit {
			return false
		}
		if in.c.active.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// firstRule is the rule behind the plan's first fault.
func (p *plan) firstRule() int {
	if p.delayed {
		return p.delayRule
	}
	return p.abortRule
}

// release frees the call's active-fault slot.
func (in *Injector) release() { in.c.active.Add(-1) }

func (in *Injector) emit(e Event) {
	if in.opts.observer != nil {
		in.opts.observer(e)
	}
}
