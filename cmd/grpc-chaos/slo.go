package main

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/resilience-go/grpc-resilience/cmd/grpc-chaos/internal/report"
)

// objective is one term of a --slo: a figure of a row compared with a bound.
//
//	objective = [ policy [ "/" kind ] ":" ] metric op value
//	metric    = "success" | "p50" | "p95" | "p99" | "max" | "mean"
//	          | "attempts" | "amplification"
//	op        = ">=" | "<=" | ">" | "<"
//
// success takes a percentage ("99.9%"), the latencies a Go duration
// ("100ms"), attempts (client attempts per call) and amplification (server
// attempts per call) a plain number. Without a scope an objective applies to
// every row run; with one, to the rows of that policy (and kind).
type objective struct {
	text         string
	policy, kind string // "" for any
	unit         string // of the bound: "%", "ms" or ""
	metric       string
	op           string
	bound        float64 // in the metric's unit: percent, ms, or a number
}

var sloMetrics = []string{"success", "p50", "p95", "p99", "max", "mean", "attempts", "amplification"}

// parseSLO parses a --slo: objectives separated by commas. counters tells
// whether the server's counters can be read (an embedded server), which
// the amplification metric needs.
func parseSLO(spec string, policies, kindNames []string, counters bool) ([]objective, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, fmt.Errorf("--slo is empty; want e.g. 'success>=99.9%%,p99<=100ms'")
	}
	var out []objective
	for i, tok := range strings.Split(spec, ",") {
		tok = strings.TrimSpace(tok)
		o, err := parseObjective(tok, policies, kindNames)
		if err == nil && o.metric == "amplification" && !counters {
			err = fmt.Errorf("amplification needs the embedded server's counters; a --target server's are not read")
		}
		if err != nil {
			return nil, fmt.Errorf("--slo objective %d %q: %w", i+1, tok, err)
		}
		out = append(out, o)
	}
	return out, nil
}

func parseObjective(tok string, policies, kindNames []string) (objective, error) {
	o := objective{text: tok}
	if tok == "" {
		return o, fmt.Errorf("empty objective")
	}
	if scope, rest, ok := strings.Cut(tok, ":"); ok {
		o.policy, o.kind, _ = strings.Cut(scope, "/")
		if !slices.Contains(policies, o.policy) {
			return o, fmt.Errorf("policy %q is not run; want one of %s", o.policy, strings.Join(policies, ", "))
		}
		if o.kind != "" {
			if a, ok := kindAliases[o.kind]; ok {
				o.kind = a
			}
			if !slices.Contains(kindNames, o.kind) {
				return o, fmt.Errorf("kind %q is not run; want one of %s", o.kind, strings.Join(kindNames, ", "))
			}
		}
		tok = rest
	}
	i := strings.IndexAny(tok, "<>")
	if i < 0 {
		return o, fmt.Errorf("no comparison; want metric>=value or metric<=value")
	}
	o.metric = strings.ToLower(strings.TrimSpace(tok[:i]))
	o.op = tok[i : i+1]
	val := tok[i+1:]
	if strings.HasPrefix(val, "=") {
		o.op += "="
		val = val[1:]
	}
	val = strings.TrimSpace(val)
	if !slices.Contains(sloMetrics, o.metric) {
		return o, fmt.Errorf("unknown metric %q; want one of %s", o.metric, strings.Join(sloMetrics, ", "))
	}
	switch o.metric {
	case "success":
		num, ok := strings.CutSuffix(val, "%")
		f, err := strconv.ParseFloat(num, 64)
		if !ok || err != nil || !(f >= 0 && f <= 100) { // NaN fails too
			return o, fmt.Errorf("bad percentage %q; want e.g. 99.9%%", val)
		}
		o.bound, o.unit = f, "%"
	case "attempts", "amplification":
		f, err := strconv.ParseFloat(val, 64)
		if err != nil || !(f >= 0) || math.IsInf(f, 1) {
			return o, fmt.Errorf("bad number %q; want e.g. 1.5", val)
		}
		o.bound = f
	default:
		d, err := time.ParseDuration(val)
		if err != nil || d < 0 {
			return o, fmt.Errorf("bad duration %q; want e.g. 100ms", val)
		}
		o.bound, o.unit = ms(d), "ms"
	}
	return o, nil
}

// applies reports whether o constrains row.
func (o objective) applies(row report.Row) bool {
	return (o.policy == "" || o.policy == row.Policy) && (o.kind == "" || o.kind == row.Kind)
}

// value returns row's figure for o's metric and whether the row has one
// (amplification needs the server's counters).
func (o objective) value(row report.Row) (float64, bool) {
	switch o.metric {
	case "success":
		if row.Calls == 0 {
			return 0, true
		}
		// 100·OK/Calls in one division, so that 999 of 1000 is exactly the
		// float 99.9 that "99.9%" parses to.
		return float64(100*row.OK) / float64(row.Calls), true
	case "p50":
		return row.LatencyMs.P50, true
	case "p95":
		return row.LatencyMs.P95, true
	case "p99":
		return row.LatencyMs.P99, true
	case "max":
		return row.LatencyMs.Max, true
	case "mean":
		return row.LatencyMs.Mean, true
	case "attempts":
		return row.AttemptsPerCall, true
	case "amplification":
		if row.ServerAttemptsPerCall == nil {
			return 0, false
		}
		return *row.ServerAttemptsPerCall, true
	}
	return 0, false
}

func (o objective) holds(v float64) bool {
	switch o.op {
	case ">=":
		return v >= o.bound
	case ">":
		return v > o.bound
	case "<=":
		return v <= o.bound
	default:
		return v < o.bound
	}
}

// checkSLO checks every objective against every row it applies to. A row
// without the figure (amplification against a --target) fails the check:
// an objective that cannot be checked is not met.
func checkSLO(spec string, objs []objective, rows []report.Row) *report.SLOResult {
	res := &report.SLOResult{Spec: spec, Met: true}
	for _, o := range objs {
		for _, row := range rows {
			if !o.applies(row) {
				continue
			}
			v, ok := o.value(row)
			met := ok && row.Calls > 0 && o.holds(v)
			res.Checks = append(res.Checks, report.SLOCheck{Objective: o.text, Kind: row.Kind, Policy: row.Policy, Value: v, Unit: o.unit, Met: met})
			res.Met = res.Met && met
		}
	}
	return res
}
