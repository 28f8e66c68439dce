package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// outcomeOf returns the row of scenario, kind and client when it has a
// result; otherwise nil and why it has none.
func (d *scenarioData) outcomeOf(scenario, kind, client string) (*row, string) {
	r := d.get(scenario, kind, client)
	switch {
	case r == nil:
		return nil, "no result"
	case r.end != nil:
		return nil, describeEnd(*r.end, client)
	}
	return r, ""
}

// perOurs builds one check per kind of scenario: judge returns the figure
// of one of ours' rows and whether it meets the target; a row without a
// result misses it.
func (d *scenarioData) perOurs(scenario string, kinds []string, judge func(r *row) (string, bool)) []check {
	var cs []check
	for _, kind := range kinds {
		c := check{what: kind, met: true}
		var figs []string
		for _, p := range ourPeers {
			r, why := d.outcomeOf(scenario, kind, p)
			if r == nil {
				figs = append(figs, p+": "+why)
				c.met = false
				continue
			}
			fig, ok := judge(r)
			figs = append(figs, p+" "+fig)
			c.met = c.met && ok
		}
		c.figure = strings.Join(figs, ", ")
		cs = append(cs, c)
	}
	return cs
}

// flakyTarget: ours' success rate is within flakySigmas σ of the binomial
// theory, and not below grpcbuiltin's by more than the noise of the
// difference of two such rates (flakySigmas·√2·σ).
func flakyTarget(d *scenarioData) target {
	t := target{
		name: "Flaky: success rate",
		goal: fmt.Sprintf("ours = theory ± %dσ, and ≥ grpcbuiltin − %d·√2·σ, per kind", flakySigmas, flakySigmas),
	}
	for _, kind := range kindOrder {
		builtin, builtinWhy := d.outcomeOf("Flaky", kind, "grpcbuiltin")
		cs := d.perOurs("Flaky", []string{kind}, func(r *row) (string, bool) {
			s, theory, sigma := r.m("success-%"), r.m("theory-%"), r.m("sigma-%")
			ok := math.Abs(s-theory) <= flakySigmas*sigma
			fig := fmt.Sprintf("%s %% (theory %s ± %s)", fmtPct2(s), fmtPct2(theory), fmtPct2(flakySigmas*sigma))
			if !ok {
				fig += " off theory"
			}
			if builtin != nil {
				if floor := builtin.m("success-%") - flakySigmas*math.Sqrt2*sigma; s < floor {
					fig += fmt.Sprintf(" below grpcbuiltin's floor %s", fmtPct2(floor))
					ok = false
				}
			}
			return fig, ok
		})
		c := cs[0]
		if builtin != nil {
			c.figure += fmt.Sprintf("; grpcbuiltin %s %%", fmtPct2(builtin.m("success-%")))
		} else {
			c.figure += "; grpcbuiltin: " + builtinWhy + ", not compared"
		}
		t.checks = append(t.checks, c)
	}
	return t
}

// outageTarget: a6 with A6 throttling sends at most maxThrottledAttempts
// attempts per call when every attempt fails. grpcbuiltin's throttled
// figure and the unthrottled ones are shown beside it.
func outageTarget(d *scenarioData) target {
	t := target{
		name: "Outage: throttling",
		goal: fmt.Sprintf("a6+throttle ≤ %.1f server attempts/call, per kind", maxThrottledAttempts),
	}
	attempts := func(kind, client string) (string, float64, bool) {
		r, why := d.outcomeOf("Outage", kind, client)
		if r == nil {
			return client + ": " + why, 0, false
		}
		v := r.m("server-attempts/call")
		return client + " " + fmtAttempts(v), v, true
	}
	for _, kind := range kindOrder {
		fig, v, ok := attempts(kind, "a6+throttle")
		c := check{what: kind, met: ok && v <= maxThrottledAttempts}
		a6, _, _ := attempts(kind, "a6")
		builtinThrottle, _, _ := attempts(kind, "grpcbuiltin+throttle")
		builtin, _, _ := attempts(kind, "grpcbuiltin")
		c.figure = fmt.Sprintf("%s (unthrottled: %s); %s (unthrottled: %s)", fig, a6, builtinThrottle, builtin)
		t.checks = append(t.checks, c)
	}
	return t
}

// tailTarget: our best hedging p99 is at most maxTailRatio times the best
// p99 of any peer's variant, hedging or not.
func tailTarget(d *scenarioData) target {
	t := target{
		name: "Slow tail: hedging",
		goal: fmt.Sprintf("best of manual+hedge, a6+hedge ≤ %.1f × the best peer's p99, per kind", maxTailRatio),
	}
	for _, kind := range kindOrder {
		c := check{what: kind}
		var figs []string
		bestOurs, oursName := math.Inf(1), ""
		for _, p := range ourPeers {
			v := p + "+hedge"
			r, why := d.outcomeOf("Tail", kind, v)
			if r == nil {
				figs = append(figs, v+": "+why)
				continue
			}
			p99 := r.m("p99-ms")
			figs = append(figs, fmt.Sprintf("%s %s ms", v, fmtMs(p99)))
			if p99 < bestOurs {
				bestOurs, oursName = p99, v
			}
		}
		bestPeer, peerName := math.Inf(1), ""
		for _, v := range d.variants("Tail") {
			if ours(v) {
				continue
			}
			if r, _ := d.outcomeOf("Tail", kind, v); r != nil && r.m("p99-ms") < bestPeer {
				bestPeer, peerName = r.m("p99-ms"), v
			}
		}
		switch {
		case peerName == "":
			figs = append(figs, "no peer result to compare with")
		case oursName == "":
			figs = append(figs, fmt.Sprintf("best peer %s %s ms", peerName, fmtMs(bestPeer)))
		default:
			ratio := bestOurs / bestPeer
			figs = append(figs, fmt.Sprintf("best peer %s %s ms; ratio %s", peerName, fmtMs(bestPeer), fmtRatio(ratio)))
			c.met = ratio <= maxTailRatio
		}
		c.figure = strings.Join(figs, ", ")
		t.checks = append(t.checks, c)
	}
	return t
}

// pushbackTarget: ours wait at least what the server asks for before every
// retry it pushed back.
func pushbackTarget(d *scenarioData) target {
	return target{
		name: "Pushback",
		goal: "ours honour 100 % of pushbacks, per kind",
		checks: d.perOurs("Pushback", kindOrder, func(r *row) (string, bool) {
			fig := fmt.Sprintf("%s %% of %s retries", fmtPct1(r.m("honoured-%")), fmtCount(r.m("retries")))
			if w, ok := r.metric("min-wait-ms"); ok {
				fig += fmt.Sprintf(" (min wait %s ms)", fmtMs(w))
			}
			return fig, r.m("honoured-%") >= 100
		}),
	}
}

// replayTarget: ours replay what a stream sent before its first attempt
// failed, and every call succeeds with the right data.
func replayTarget(d *scenarioData) target {
	return target{
		name: "Replay before commit",
		goal: "ours: success 100 %, 0 wrong calls, per kind",
		checks: d.perOurs("Replay", []string{"ClientStream", "Bidi"}, func(r *row) (string, bool) {
			s, wrong := r.m("success-%"), r.m("wrong-calls")
			return fmt.Sprintf("%s %%, %s wrong", fmtPct1(s), fmtCount(wrong)), s >= 100 && wrong == 0
		}),
	}
}

// partialTarget: ours never retry a committed stream, so the server sees
// one attempt per call and the caller no duplicate or wrong message. Every
// peer row that shows duplicates or wrong data is listed.
func partialTarget(d *scenarioData) target {
	kinds := []string{"ServerStream", "Bidi"}
	t := target{
		name: "Partial stream",
		goal: "ours: 1.000 server attempts/call, 0 dup calls, 0 wrong calls, per kind",
		checks: d.perOurs("Partial", kinds, func(r *row) (string, bool) {
			a, dup, wrong := r.m("server-attempts/call"), r.m("dup-calls"), r.m("wrong-calls")
			return fmt.Sprintf("%s attempts/call, %s dup, %s wrong", fmtAttempts(a), fmtCount(dup), fmtCount(wrong)),
				math.Abs(a-1) < 0.0005 && dup == 0 && wrong == 0
		}),
	}
	var bad []string
	for _, kind := range d.kinds("Partial") {
		for _, v := range d.variants("Partial") {
			if ours(v) {
				continue
			}
			r, _ := d.outcomeOf("Partial", kind, v)
			if r != nil && (r.m("dup-calls") > 0 || r.m("wrong-calls") > 0) {
				bad = append(bad, fmt.Sprintf("%s on %s (%s dup, %s wrong calls)", v, kind, fmtCount(r.m("dup-calls")), fmtCount(r.m("wrong-calls"))))
			}
		}
	}
	if len(bad) > 0 {
		t.notes = append(t.notes, "Peers returning duplicated or wrong data: "+strings.Join(bad, "; ")+".")
	} else {
		t.notes = append(t.notes, "No peer returned duplicated or wrong data.")
	}
	return t
}

// largeStreamTarget: ours' peak heap over plain's stays within the replay
// limit plus largeStreamSlackKiB, for each replay limit.
func largeStreamTarget(d *scenarioData) target {
	t := target{
		name: "Large stream: memory",
		goal: fmt.Sprintf("ours' peak heap − plain's ≤ replay limit + %d KiB, per limit", largeStreamSlackKiB),
	}
	const kind = "ClientStream"
	plain, plainWhy := d.outcomeOf("LargeStream", kind, basePeer)
	var suffixes []string
	for _, v := range d.variants("LargeStream") {
		if _, suffix, _ := strings.Cut(v, "+"); ours(v) && !slices.Contains(suffixes, suffix) {
			suffixes = append(suffixes, suffix)
		}
	}
	for _, suffix := range suffixes {
		c := check{what: "default limit", met: true}
		if suffix != "" {
			c.what = "+" + suffix
		}
		var figs []string
		for _, p := range ourPeers {
			v := p
			if suffix != "" {
				v += "+" + suffix
			}
			r, why := d.outcomeOf("LargeStream", kind, v)
			switch {
			case r == nil:
				figs = append(figs, v+": "+why)
				c.met = false
				continue
			case plain == nil:
				figs = append(figs, "plain: "+plainWhy)
				c.met = false
				continue
			}
			over := r.m("peak-heap-KiB") - plain.m("peak-heap-KiB")
			limit := r.m("replay-limit-KiB")
			ok := over <= limit+largeStreamSlackKiB
			cmp := "≤"
			if !ok {
				cmp = ">"
			}
			figs = append(figs, fmt.Sprintf("%s %s KiB %s %s + %d", v, fmtKiBDelta(over), cmp, fmtKiB(limit), largeStreamSlackKiB))
			c.met = c.met && ok
		}
		c.figure = strings.Join(figs, ", ")
		t.checks = append(t.checks, c)
	}
	return t
}
