package main

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"golang.org/x/perf/benchmath"
)

// The targets' thresholds.
const (
	// maxRatio bounds ours' median ns/op over plain's on the success path.
	maxRatio = 1.03
	// maxExtraAllocs bounds ours' median allocs/op minus plain's.
	maxExtraAllocs = 2
	// flakySigmas is how many standard deviations of the binomial theory
	// a flaky success rate may be off by.
	flakySigmas = 3
	// maxThrottledAttempts bounds the server attempts per call of a
	// throttled client in an outage.
	maxThrottledAttempts = 1.2
	// maxTailRatio bounds our best hedging p99 over the best peer's.
	maxTailRatio = 0.3
	// largeStreamSlackKiB is what a client may keep on top of its replay
	// limit, in KiB, over plain's peak heap: the bench's largeStreamSlack
	// (plain grpc-go's own peak moves by up to about 100 KiB between runs).
	largeStreamSlackKiB = 128
)

// ourPeers are this library's clients, in order.
var ourPeers = []string{"manual", "a6"}

// A target is one goal and the checks it is judged on: met when every
// check is.
type target struct {
	name, goal string
	checks     []check
	// notes are facts shown with the target that do not judge it.
	notes []string
}

// A check is one measured figure and whether it meets its target.
type check struct {
	what, figure string
	met          bool
}

func (t target) met() bool {
	return len(t.checks) > 0 && !slices.ContainsFunc(t.checks, func(c check) bool { return !c.met })
}

// missed returns what the missed checks are of.
func (t target) missed() []string {
	var ws []string
	for _, c := range t.checks {
		if !c.met {
			ws = append(ws, c.what)
		}
	}
	return ws
}

// targets evaluates every target.
func targets(s *successData, d *scenarioData) []target {
	return []target{
		successTimeTarget(s),
		successAllocsTarget(s),
		flakyTarget(d),
		outageTarget(d),
		tailTarget(d),
		pushbackTarget(d),
		replayTarget(d),
		partialTarget(d),
		largeStreamTarget(d),
	}
}

func callersText(n int) string {
	if n == 1 {
		return "1 caller"
	}
	return fmt.Sprintf("%d callers", n)
}

// successTimeTarget: ours' median ns/op is at most maxRatio times plain's,
// for every kind and number of callers.
func successTimeTarget(s *successData) target {
	t := target{
		name: "Success path: time",
		goal: fmt.Sprintf("ours ≤ %.2f× plain's median ns/op, per kind and callers", maxRatio),
	}
	var warnings []string
	for _, kind := range s.kinds {
		for _, callers := range s.callers {
			c := check{what: kind + ", " + callersText(callers), met: true}
			var figs []string
			for _, p := range ourPeers {
				k := successKey{kind, callers, p}
				st, ok := s.stat(k)
				if !ok || !st.hasBase {
					_, why := s.why(k)
					if ok {
						why = "no plain result"
					}
					figs = append(figs, p+": "+why)
					c.met = false
					continue
				}
				figs = append(figs, fmt.Sprintf("%s ×%s (%s)", p, fmtRatio(st.ratio), sigText(st.cmp)))
				if st.ratio > maxRatio {
					c.met = false
				}
				for _, w := range st.cmp.Warnings {
					if !slices.Contains(warnings, w.Error()) {
						warnings = append(warnings, w.Error())
					}
				}
			}
			c.figure = strings.Join(figs, ", ")
			t.checks = append(t.checks, c)
		}
	}
	for _, w := range warnings {
		t.notes = append(t.notes, "benchstat's test warns: "+w+" (more runs: -count).")
	}
	return t
}

// sigText says whether a comparison with plain found a difference, with
// its p-value and numbers of runs.
func sigText(c benchmath.Comparison) string {
	if significant(c) {
		return "significant, " + c.String()
	}
	return "not significant, " + c.String()
}

// successAllocsTarget: ours' median allocs/op exceeds plain's by at most
// maxExtraAllocs, for every kind (the worst over the numbers of callers).
func successAllocsTarget(s *successData) target {
	t := target{
		name: "Success path: allocations",
		goal: fmt.Sprintf("ours ≤ plain's median allocs/op + %d, per kind", maxExtraAllocs),
	}
	for _, kind := range s.kinds {
		c := check{what: kind, met: true}
		var figs []string
		for _, p := range ourPeers {
			worst, seen := math.Inf(-1), false
			for _, callers := range s.callers {
				k := successKey{kind, callers, p}
				st, ok := s.stat(k)
				if !ok || !st.hasBase {
					_, why := s.why(k)
					figs = append(figs, fmt.Sprintf("%s (%s): %s", p, callersText(callers), why))
					c.met = false
					continue
				}
				worst, seen = max(worst, st.deltaAllocs), true
			}
			if seen {
				figs = append(figs, fmt.Sprintf("%s %s", p, fmtDelta(worst)))
				if worst > maxExtraAllocs {
					c.met = false
				}
			}
		}
		c.figure = strings.Join(figs, ", ")
		t.checks = append(t.checks, c)
	}
	if len(s.callers) > 1 {
		t.notes = append(t.notes, "Each figure is the worst over the numbers of callers.")
	}
	return t
}
