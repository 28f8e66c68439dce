package main

import (
	"fmt"
	"slices"
	"strconv"

	"golang.org/x/perf/benchmath"
)

// confidence is the level of the medians' confidence intervals, as
// benchstat's default.
const confidence = 0.95

// thresholds holds the significance level of comparisons: p < 0.05.
var thresholds = benchmath.DefaultThresholds

// successKey names one success-path benchmark:
// Benchmark<kind>/callers=<callers>/client=<client>.
type successKey struct {
	kind    string
	callers int
	client  string
}

func (k successKey) String() string {
	return fmt.Sprintf("Benchmark%s/callers=%d/client=%s", k.kind, k.callers, k.client)
}

// successRuns are the measurements of one benchmark, one per run.
type successRuns struct {
	ns, bytes, allocs []float64
	// iters are the calls of each run.
	iters []int
}

// successData is the success-path file.
type successData struct {
	file    string
	runs    map[successKey]*successRuns
	ends    map[successKey]outcome
	kinds   []string
	callers []int
	clients []string
	// reasons say why a peer cannot make a kind of call, by kind and peer:
	// the success file does not say it, the scenarios' does.
	reasons map[[2]string]string
}

// readSuccess reads the success-path file name.
func readSuccess(name string) (*successData, error) {
	out, err := readBench(name)
	if err != nil {
		return nil, err
	}
	return newSuccess(out, name)
}

func newSuccess(out *benchOutput, file string) (*successData, error) {
	d := &successData{file: file, runs: make(map[successKey]*successRuns), ends: make(map[successKey]outcome)}
	var kinds, clients []string
	for _, r := range out.results {
		k, ok, err := successKeyOf(r.result)
		if err != nil {
			return nil, &lineError{r.pos, err}
		}
		if !ok {
			continue
		}
		var v [3]float64
		for i, unit := range []string{"ns/op", "B/op", "allocs/op"} {
			x, ok := r.metrics[unit]
			if !ok {
				return nil, &lineError{r.pos, fmt.Errorf("result of %s has no %s (run go test with -benchmem)", r.name, unit)}
			}
			v[i] = x
		}
		rs := d.runs[k]
		if rs == nil {
			rs = &successRuns{}
			d.runs[k] = rs
		}
		rs.ns, rs.bytes, rs.allocs = append(rs.ns, v[0]), append(rs.bytes, v[1]), append(rs.allocs, v[2])
		rs.iters = append(rs.iters, r.iters)
		kinds, clients = append(kinds, k.kind), append(clients, k.client)
		if !slices.Contains(d.callers, k.callers) {
			d.callers = append(d.callers, k.callers)
		}
	}
	if len(d.runs) == 0 {
		return nil, fmt.Errorf("%s: no Benchmark<Kind>/callers=<n>/client=<peer> results", file)
	}
	for name, o := range out.ends {
		if k, ok, err := successKeyOf(splitName(name)); err == nil && ok {
			d.ends[k] = o
		}
	}
	d.kinds = sortedKeys(append(kinds, kindOrder...), compareKinds)
	d.clients = sortedKeys(clients, compareVariants)
	slices.Sort(d.callers)
	return d, nil
}

// successKeyOf returns the key of a success-path result; ok is false for a
// benchmark of another shape.
func successKeyOf(r result) (k successKey, ok bool, err error) {
	callers, hasCallers := r.keys["callers"]
	client, hasClient := r.keys["client"]
	if !hasCallers || !hasClient || len(r.keys) != 2 {
		return successKey{}, false, nil
	}
	n, err := strconv.Atoi(callers)
	if err != nil || n < 1 {
		return successKey{}, false, fmt.Errorf("%s: callers=%s is not a positive count", r.name, callers)
	}
	return successKey{r.top, n, client}, true, nil
}

// check reports the first benchmark the document needs that the file has
// nothing about: plain and ours for every kind and number of callers.
func (d *successData) check() error {
	for _, kind := range d.kinds {
		for _, callers := range d.callers {
			for _, client := range []string{basePeer, "manual", "a6"} {
				k := successKey{kind, callers, client}
				if _, ok := d.runs[k]; ok {
					continue
				}
				if _, why := d.why(k); why != "no result" {
					continue
				}
				return &missingError{d.file, k.String()}
			}
		}
	}
	return nil
}

// why says why k has no result: its failure or skip in the file, or the
// reason its peer cannot make that kind of call; "no result" when nothing
// says. failed reports a failure.
func (d *successData) why(k successKey) (failed bool, reason string) {
	if o, ok := d.ends[k]; ok {
		return o.failed, describeEnd(o, k.client)
	}
	if r, ok := d.reasons[[2]string{k.kind, k.client}]; ok {
		return false, r
	}
	return false, "no result"
}

// successStat is one benchmark's medians, and how they compare with
// plain's for the same kind and callers.
type successStat struct {
	runs              int
	ns, bytes, allocs benchmath.Summary
	// hasBase reports that plain has a result to compare with.
	hasBase bool
	// ratio is the median ns/op over plain's; cmp tests whether the two
	// samples differ; deltaAllocs is the median allocs/op minus plain's.
	ratio       float64
	cmp         benchmath.Comparison
	deltaAllocs float64
}

// stat returns the statistics of k; ok is false when k has no result.
func (d *successData) stat(k successKey) (successStat, bool) {
	rs, ok := d.runs[k]
	if !ok {
		return successStat{}, false
	}
	ns := sample(rs.ns)
	st := successStat{
		runs:   len(rs.ns),
		ns:     benchmath.AssumeNothing.Summary(ns, confidence),
		bytes:  benchmath.AssumeNothing.Summary(sample(rs.bytes), confidence),
		allocs: benchmath.AssumeNothing.Summary(sample(rs.allocs), confidence),
	}
	base, ok := d.runs[successKey{k.kind, k.callers, basePeer}]
	if !ok {
		return st, true
	}
	baseNs := sample(base.ns)
	st.hasBase = true
	st.ratio = st.ns.Center / benchmath.AssumeNothing.Summary(baseNs, confidence).Center
	st.cmp = benchmath.AssumeNothing.Compare(baseNs, ns)
	st.deltaAllocs = st.allocs.Center - benchmath.AssumeNothing.Summary(sample(base.allocs), confidence).Center
	return st, true
}

// significant reports whether the comparison rejects the hypothesis that
// both samples come from one distribution.
func significant(c benchmath.Comparison) bool { return c.P < c.Alpha }

// sample returns a benchmath sample of a copy of vs (NewSample sorts it).
func sample(vs []float64) *benchmath.Sample {
	return benchmath.NewSample(slices.Clone(vs), &thresholds)
}

// maxRuns returns the most runs any benchmark had.
func (d *successData) maxRuns() int {
	n := 0
	for _, rs := range d.runs {
		n = max(n, len(rs.ns))
	}
	return n
}

// itersText says how many calls the runs made: one number when they agree.
func (d *successData) itersText() string {
	lo, hi := -1, 0
	for _, rs := range d.runs {
		for _, n := range rs.iters {
			if lo < 0 || n < lo {
				lo = n
			}
			hi = max(hi, n)
		}
	}
	return rangeText(lo, hi)
}

// minRuns returns the fewest runs any benchmark had.
func (d *successData) minRuns() int {
	n := -1
	for _, rs := range d.runs {
		if n < 0 || len(rs.ns) < n {
			n = len(rs.ns)
		}
	}
	return n
}
