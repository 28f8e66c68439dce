package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// pos is a place in an input file.
type pos struct {
	file string
	line int
}

func (p pos) String() string { return fmt.Sprintf("%s:%d", p.file, p.line) }

// A result is one benchmark result line:
//
//	BenchmarkUnary/callers=8/client=a6-2   10000   33121 ns/op   9380 B/op   147 allocs/op
type result struct {
	// name is the benchmark's full name without the -GOMAXPROCS suffix.
	name string
	// top is the top-level benchmark without "Benchmark": "Unary".
	top string
	// keys are the sub-benchmarks' key=value pairs: callers=8, client=a6.
	keys    map[string]string
	iters   int
	metrics map[string]float64
}

// parseResult parses line as a benchmark result. ok is false for any other
// line, such as the bare name -v prints before a benchmark runs or a
// `--- SKIP:` line; err is set for a line that starts as a result (a name
// and an iteration count) but whose measurements do not parse.
func parseResult(line string) (r result, ok bool, err error) {
	fields := strings.Fields(line)
	if len(fields) < 2 || !strings.HasPrefix(fields[0], "Benchmark") || line[0] == ' ' || line[0] == '\t' {
		return result{}, false, nil
	}
	iters, err := strconv.Atoi(fields[1])
	if err != nil {
		return result{}, false, nil
	}
	r = splitName(trimProcs(fields[0]))
	r.iters = iters
	vals := fields[2:]
	if len(vals) == 0 {
		return result{}, false, fmt.Errorf("result of %s has no measurements", r.name)
	}
	if len(vals)%2 != 0 {
		return result{}, false, fmt.Errorf("result of %s: %q is a value without a unit", r.name, vals[len(vals)-1])
	}
	r.metrics = make(map[string]float64, len(vals)/2)
	for i := 0; i < len(vals); i += 2 {
		v, err := strconv.ParseFloat(vals[i], 64)
		if err != nil {
			return result{}, false, fmt.Errorf("result of %s: %q %s is not a number", r.name, vals[i], vals[i+1])
		}
		if _, dup := r.metrics[vals[i+1]]; dup {
			return result{}, false, fmt.Errorf("result of %s: unit %s given twice", r.name, vals[i+1])
		}
		r.metrics[vals[i+1]] = v
	}
	return r, true, nil
}

// trimProcs drops the -GOMAXPROCS suffix of a benchmark name, present when
// GOMAXPROCS > 1.
func trimProcs(name string) string {
	if i := strings.LastIndexByte(name, '-'); i >= 0 && i > strings.LastIndexByte(name, '/') {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			return name[:i]
		}
	}
	return name
}

// splitName splits a benchmark name into its top-level name and the
// key=value pairs of its sub-benchmarks; parts without "=" are ignored.
func splitName(name string) result {
	parts := strings.Split(name, "/")
	r := result{name: name, top: strings.TrimPrefix(parts[0], "Benchmark"), keys: make(map[string]string)}
	for _, p := range parts[1:] {
		if k, v, ok := strings.Cut(p, "="); ok {
			r.keys[k] = v
		}
	}
	return r
}

// logLine matches a line logged by a test or benchmark: indented, then
// file.go:NN: and the message.
var logLine = regexp.MustCompile(`^\s+[^\s:]+\.go:\d+: (.*)$`)

// parseLogLine returns the message of a logged line without its
// `file.go:NN: ` prefix; ok is false for any other line.
func parseLogLine(line string) (msg string, ok bool) {
	m := logLine.FindStringSubmatch(line)
	if m == nil {
		return "", false
	}
	return strings.TrimSpace(m[1]), true
}

// parseEnd parses a `--- SKIP: name` or `--- FAIL: name` line, as go test
// prints when a benchmark was skipped or failed.
func parseEnd(line string) (verdict, name string, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimSpace(line), "--- ")
	if !found {
		return "", "", false
	}
	verdict, rest, found = strings.Cut(rest, ": ")
	if !found || (verdict != "SKIP" && verdict != "FAIL") {
		return "", "", false
	}
	fields := strings.Fields(rest) // a test's line ends in its duration
	if len(fields) == 0 || !strings.HasPrefix(fields[0], "Benchmark") {
		return "", "", false
	}
	return verdict, trimProcs(fields[0]), true
}

// An outcome is why a benchmark has no result: it was skipped, or it
// failed.
type outcome struct {
	failed bool
	reason string
}

// benchOutput is what one `go test -bench` output holds.
type benchOutput struct {
	results []posResult
	// ends are the benchmarks skipped or failed, by name.
	ends map[string]outcome
}

type posResult struct {
	result
	pos pos
}

// readBench reads the go test output in the file name.
func readBench(name string) (*benchOutput, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseBench(f, name)
}

// parseBench parses go test output from r, named file in errors.
//
// A skipped benchmark's reason is what it logged: with -v, go test prints
// the messages as they are logged, between the benchmark's bare name and
// its `--- SKIP:` line; without -v it prints them indented after that line.
// Both are accepted.
func parseBench(r io.Reader, file string) (*benchOutput, error) {
	out := &benchOutput{ends: make(map[string]outcome)}
	var (
		current string   // the benchmark whose bare name -v printed last
		logged  []string // its messages so far
		after   string   // the skipped or failed benchmark whose indented output may follow
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		p := pos{file, n}
		if res, ok, err := parseResult(line); err != nil {
			return nil, &lineError{p, err}
		} else if ok {
			out.results = append(out.results, posResult{res, p})
			current, logged, after = "", nil, ""
			continue
		}
		if msg, ok := parseLogLine(line); ok {
			if after != "" {
				o := out.ends[after]
				o.reason = joinReason(o.reason, msg)
				out.ends[after] = o
			} else {
				logged = append(logged, msg)
			}
			continue
		}
		if verdict, name, ok := parseEnd(line); ok {
			o := outcome{failed: verdict == "FAIL"}
			if name == current {
				o.reason = strings.Join(logged, "; ")
			}
			out.ends[name] = o
			current, logged, after = "", nil, name
			continue
		}
		if strings.HasPrefix(line, "        ") && (after != "" || len(logged) > 0) {
			// A logged message's continuation line.
			msg := strings.TrimSpace(line)
			if after != "" {
				o := out.ends[after]
				o.reason = strings.TrimSpace(o.reason + " " + msg)
				out.ends[after] = o
			} else {
				logged[len(logged)-1] += " " + msg
			}
			continue
		}
		after = ""
		if f := strings.Fields(line); len(f) == 1 && strings.HasPrefix(line, "Benchmark") {
			current, logged = trimProcs(f[0]), nil
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return out, nil
}

func joinReason(reason, msg string) string {
	if reason == "" {
		return msg
	}
	return reason + "; " + msg
}

// peerOf returns the peer of a client variant: "a6" for "a6+throttle".
func peerOf(variant string) string {
	p, _, _ := strings.Cut(variant, "+")
	return p
}

// trimPeer drops the `peer: ` prefix the benchmarks put on their skip
// reasons: the table already names the client.
func trimPeer(reason, variant string) string {
	if r, ok := strings.CutPrefix(reason, peerOf(variant)+": "); ok {
		return r
	}
	return strings.TrimPrefix(reason, variant+": ")
}
