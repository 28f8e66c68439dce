// Command ratios reads `go test -bench` output of the bench module and
// prints, for each kind of call, every client flavour's median ns/op and
// allocs/op next to the plain flavour's: the ratio of ns/op and the
// difference in allocs/op.
//
// Usage:
//
//	ratios [-axis client] [-base plain] [file ...]
//
// With no files it reads standard input. Benchmarks must be named
// Benchmark<Kind>/client=<flavour> (or /<axis>=<flavour> with -axis, such as
// -axis server for the server-side benchmarks); other lines are ignored. A flavour that
// ran for some kind but has no result for another (a skipped benchmark) is
// listed as "no result".
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

func main() {
	base := flag.String("base", "plain", "the flavour others are compared with")
	axis := flag.String("axis", "client", "the sub-benchmark key that names flavours: Benchmark<Kind>/<axis>=<flavour>")
	flag.Parse()
	if err := run(os.Stdout, *axis, *base, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "ratios:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, axis, base string, files []string) error {
	rs := newResults(axis)
	if len(files) == 0 {
		if err := rs.read(os.Stdin); err != nil {
			return fmt.Errorf("stdin: %w", err)
		}
	}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		err = rs.read(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	if len(rs.kinds) == 0 {
		return fmt.Errorf("no Benchmark<Kind>/%s=<flavour> results", axis)
	}
	return rs.print(w, base)
}

// sample is one benchmark line's measurements.
type sample struct {
	nsPerOp, bytesPerOp, allocsPerOp float64
}

// results holds the samples of every (kind, flavour) in order of first
// appearance.
type results struct {
	axis     string // the flavours' key: "client" in BenchmarkUnary/client=plain
	kinds    []string
	flavours []string
	samples  map[[2]string][]sample
}

func newResults(axis string) *results {
	return &results{axis: axis, samples: make(map[[2]string][]sample)}
}

func (rs *results) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		kind, flavour, s, ok := parseLine(sc.Text(), rs.axis)
		if !ok {
			continue
		}
		if !slices.Contains(rs.kinds, kind) {
			rs.kinds = append(rs.kinds, kind)
		}
		if !slices.Contains(rs.flavours, flavour) {
			rs.flavours = append(rs.flavours, flavour)
		}
		key := [2]string{kind, flavour}
		rs.samples[key] = append(rs.samples[key], s)
	}
	return sc.Err()
}

// parseLine parses one result line such as
//
//	BenchmarkUnary/client=plain-2   2000   48159 ns/op   8782 B/op   148 allocs/op
//
// ok is false for any other line, and for a result without ns/op.
func parseLine(line, axis string) (kind, flavour string, s sample, ok bool) {
	fields := strings.Fields(line)
	if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
		return "", "", sample{}, false
	}
	name := strings.TrimPrefix(fields[0], "Benchmark")
	kind, sub, found := strings.Cut(name, "/"+axis+"=")
	if !found || kind == "" {
		return "", "", sample{}, false
	}
	// Drop the -GOMAXPROCS suffix, present when GOMAXPROCS > 1.
	if i := strings.LastIndexByte(sub, '-'); i >= 0 {
		if _, err := strconv.Atoi(sub[i+1:]); err == nil {
			sub = sub[:i]
		}
	}
	if sub == "" {
		return "", "", sample{}, false
	}
	if _, err := strconv.Atoi(fields[1]); err != nil {
		return "", "", sample{}, false
	}
	s = sample{nsPerOp: -1, bytesPerOp: -1, allocsPerOp: -1}
	for i := 2; i+1 < len(fields); i += 2 {
		v, err := strconv.ParseFloat(fields[i], 64)
		if err != nil {
			return "", "", sample{}, false
		}
		switch fields[i+1] {
		case "ns/op":
			s.nsPerOp = v
		case "B/op":
			s.bytesPerOp = v
		case "allocs/op":
			s.allocsPerOp = v
		}
	}
	if s.nsPerOp < 0 {
		return "", "", sample{}, false
	}
	return kind, sub, s, true
}

// median returns the median of the field of ss picked by get, or -1 when
// no sample has it.
func median(ss []sample, get func(sample) float64) float64 {
	var vs []float64
	for _, s := range ss {
		if v := get(s); v >= 0 {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return -1
	}
	slices.Sort(vs)
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2]
	}
	return (vs[n/2-1] + vs[n/2]) / 2
}

func (rs *results) print(w io.Writer, base string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "kind\tclient\tn\tns/op\tx %s\tB/op\tallocs/op\tΔallocs\t\n", base)
	for _, kind := range rs.kinds {
		baseSamples := rs.samples[[2]string{kind, base}]
		baseNs := median(baseSamples, func(s sample) float64 { return s.nsPerOp })
		baseAllocs := median(baseSamples, func(s sample) float64 { return s.allocsPerOp })
		for _, flavour := range rs.flavours {
			ss := rs.samples[[2]string{kind, flavour}]
			if len(ss) == 0 {
				fmt.Fprintf(tw, "%s\t%s\t0\tno result\t\t\t\t\t\n", kind, flavour)
				continue
			}
			ns := median(ss, func(s sample) float64 { return s.nsPerOp })
			bytes := median(ss, func(s sample) float64 { return s.bytesPerOp })
			allocs := median(ss, func(s sample) float64 { return s.allocsPerOp })
			ratio, delta := "?", "?"
			if baseNs > 0 {
				ratio = strconv.FormatFloat(ns/baseNs, 'f', 3, 64)
			}
			if baseAllocs >= 0 && allocs >= 0 {
				delta = fmt.Sprintf("%+g", allocs-baseAllocs)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t\n",
				kind, flavour, len(ss), num(ns), ratio, num(bytes), num(allocs), delta)
		}
	}
	return tw.Flush()
}

// num formats a median, "?" when there was none.
func num(v float64) string {
	if v < 0 {
		return "?"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
