package main

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
)

// rowKey names one scenario benchmark:
// Benchmark<scenario>/kind=<kind>/client=<client>.
type rowKey struct{ scenario, kind, client string }

func (k rowKey) String() string {
	return fmt.Sprintf("Benchmark%s/kind=%s/client=%s", k.scenario, k.kind, k.client)
}

// A row is one scenario benchmark: its metrics, one value per run, or,
// when it has no result, why.
type row struct {
	metrics map[string][]float64
	end     *outcome
}

// metric returns the median of unit over the row's runs; ok is false when
// the row has no such metric.
func (r *row) metric(unit string) (v float64, ok bool) {
	vs := r.metrics[unit]
	if len(vs) == 0 {
		return 0, false
	}
	return median(vs), true
}

// m returns the median of unit, NaN when the row has none (printed "—").
func (r *row) m(unit string) float64 {
	if v, ok := r.metric(unit); ok {
		return v
	}
	return math.NaN()
}

// scenarioData is the scenarios file.
type scenarioData struct {
	file string
	rows map[rowKey]*row
}

// Every scenario's rows report these metrics.
var commonMetrics = []string{"calls", "success-%", "server-attempts/call", "wrong-calls", "dup-calls", "p50-ms", "p99-ms"}

// scenarioMetrics are the metrics each scenario's rows must report.
var scenarioMetrics = map[string][]string{
	"Flaky":       append(slices.Clone(commonMetrics), "theory-%", "sigma-%", "max-attempts"),
	"Outage":      commonMetrics,
	"Pushback":    append(slices.Clone(commonMetrics), "retries", "honoured-%"),
	"Tail":        commonMetrics,
	"Replay":      append(slices.Clone(commonMetrics), "replayed-msgs/call"),
	"Partial":     append(slices.Clone(commonMetrics), "delivered-%"),
	"LargeStream": {"peak-heap-KiB", "replay-limit-KiB", "msgs"},
}

// readScenarios reads the scenarios file name.
func readScenarios(name string) (*scenarioData, error) {
	out, err := readBench(name)
	if err != nil {
		return nil, err
	}
	return newScenarios(out, name)
}

func newScenarios(out *benchOutput, file string) (*scenarioData, error) {
	d := &scenarioData{file: file, rows: make(map[rowKey]*row)}
	for _, r := range out.results {
		k, ok := rowKeyOf(r.result)
		if !ok {
			continue
		}
		for _, unit := range scenarioMetrics[k.scenario] {
			if _, ok := r.metrics[unit]; !ok {
				return nil, &lineError{r.pos, fmt.Errorf("result of %s has no %s metric", r.name, unit)}
			}
		}
		rw := d.rows[k]
		if rw == nil {
			rw = &row{metrics: make(map[string][]float64)}
			d.rows[k] = rw
		}
		for unit, v := range r.metrics {
			rw.metrics[unit] = append(rw.metrics[unit], v)
		}
	}
	if len(d.rows) == 0 {
		return nil, fmt.Errorf("%s: no Benchmark<Scenario>/kind=<Kind>/client=<variant> results", file)
	}
	for name, o := range out.ends {
		k, ok := rowKeyOf(splitName(name))
		if !ok {
			continue
		}
		if _, ran := d.rows[k]; !ran {
			o := o
			d.rows[k] = &row{end: &o}
		}
	}
	return d, nil
}

// rowKeyOf returns the key of a scenario result; ok is false for a
// benchmark of another shape.
func rowKeyOf(r result) (rowKey, bool) {
	kind, hasKind := r.keys["kind"]
	client, hasClient := r.keys["client"]
	if !hasKind || !hasClient || len(r.keys) != 2 {
		return rowKey{}, false
	}
	return rowKey{r.top, kind, client}, true
}

// get returns the row of scenario, kind and client, nil when there is none.
func (d *scenarioData) get(scenario, kind, client string) *row {
	return d.rows[rowKey{scenario, kind, client}]
}

// kinds returns the kinds scenario ran, in order.
func (d *scenarioData) kinds(scenario string) []string {
	var ks []string
	for k := range d.rows {
		if k.scenario == scenario {
			ks = append(ks, k.kind)
		}
	}
	return sortedKeys(ks, compareKinds)
}

// variants returns the clients scenario ran, in order.
func (d *scenarioData) variants(scenario string) []string {
	var vs []string
	for k := range d.rows {
		if k.scenario == scenario {
			vs = append(vs, k.client)
		}
	}
	return sortedKeys(vs, compareVariants)
}

// common describes the value of unit over scenario's rows: the value when
// every row agrees, else its range.
func (d *scenarioData) common(scenario, unit string) string {
	lo, hi := math.Inf(1), math.Inf(-1)
	for k, r := range d.rows {
		if v, ok := r.metric(unit); ok && k.scenario == scenario {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	switch {
	case math.IsInf(lo, 1):
		return "?"
	case lo == hi:
		return fmtCount(lo)
	}
	return fmtCount(lo) + " to " + fmtCount(hi)
}

// peerReasons returns why each peer cannot make a kind of call, by kind and
// peer: the reason any scenario skipped the peer as it is (no suffix, so
// no policy change) with that kind. Failures are not reasons.
func (d *scenarioData) peerReasons() map[[2]string]string {
	reasons := make(map[[2]string]string)
	keys := slices.SortedFunc(maps.Keys(d.rows), func(a, b rowKey) int {
		return strings.Compare(a.String(), b.String())
	})
	for _, k := range keys {
		r := d.rows[k]
		if r.end == nil || r.end.failed || strings.Contains(k.client, "+") || r.end.reason == "" {
			continue
		}
		key := [2]string{k.kind, k.client}
		if _, ok := reasons[key]; !ok {
			reasons[key] = trimPeer(r.end.reason, k.client)
		}
	}
	return reasons
}

// need lists the rows the targets are judged on: each must have a result,
// a skip or a failure.
var need = []struct {
	scenario string
	kinds    []string
	clients  []string
}{
	{"Flaky", kindOrder, []string{"grpcbuiltin", "manual", "a6"}},
	{"Outage", kindOrder, []string{"grpcbuiltin", "a6", "grpcbuiltin+throttle", "a6+throttle"}},
	{"Pushback", kindOrder, []string{"manual", "a6"}},
	{"Tail", kindOrder, []string{basePeer, "manual+hedge", "a6+hedge"}},
	{"Replay", []string{"ClientStream", "Bidi"}, []string{"manual", "a6"}},
	{"Partial", []string{"ServerStream", "Bidi"}, []string{"manual", "a6"}},
	{"LargeStream", []string{"ClientStream"}, []string{basePeer, "manual", "a6", "manual+64KiB", "a6+64KiB"}},
}

// check reports the first row the targets need that the file has nothing
// about.
func (d *scenarioData) check() error {
	for _, n := range need {
		for _, kind := range n.kinds {
			for _, client := range n.clients {
				if d.get(n.scenario, kind, client) == nil {
					return &missingError{d.file, rowKey{n.scenario, kind, client}.String()}
				}
			}
		}
	}
	return nil
}

// describeEnd says why a benchmark of client has no result.
func describeEnd(o outcome, client string) string {
	reason := trimPeer(o.reason, client)
	switch {
	case o.failed && reason == "":
		return "failed"
	case o.failed:
		return "failed: " + reason
	case reason == "":
		return "skipped"
	}
	return reason
}

// median returns the median of vs, which must not be empty.
func median(vs []float64) float64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
