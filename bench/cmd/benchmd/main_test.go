package main

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestParseResult(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		want    result
		ok      bool
		wantErr bool
	}{
		{
			name: "success line",
			line: "BenchmarkUnary/callers=8/client=a6-2   \t   10000\t     33121 ns/op\t    9380 B/op\t     147 allocs/op",
			want: result{name: "BenchmarkUnary/callers=8/client=a6", top: "Unary",
				keys: map[string]string{"callers": "8", "client": "a6"}, iters: 10000,
				metrics: map[string]float64{"ns/op": 33121, "B/op": 9380, "allocs/op": 147}},
			ok: true,
		},
		{
			name: "no GOMAXPROCS suffix",
			line: "BenchmarkBidi/callers=1/client=plain 2000 71392.5 ns/op",
			want: result{name: "BenchmarkBidi/callers=1/client=plain", top: "Bidi",
				keys: map[string]string{"callers": "1", "client": "plain"}, iters: 2000,
				metrics: map[string]float64{"ns/op": 71392.5}},
			ok: true,
		},
		{
			name: "scenario line with a suffixed variant",
			line: "BenchmarkOutage/kind=Bidi/client=a6+throttle-2 \t 1\t 30894581 ns/op\t 500.0 calls\t 1.004 server-attempts/call\t 0 success-%",
			want: result{name: "BenchmarkOutage/kind=Bidi/client=a6+throttle", top: "Outage",
				keys: map[string]string{"kind": "Bidi", "client": "a6+throttle"}, iters: 1,
				metrics: map[string]float64{"ns/op": 30894581, "calls": 500, "server-attempts/call": 1.004, "success-%": 0}},
			ok: true,
		},
		{name: "bare name printed by -v", line: "BenchmarkFlaky/kind=Unary/client=plain"},
		{name: "skip line", line: "--- SKIP: BenchmarkOutage/kind=ClientStream/client=middleware"},
		{name: "old skip form", line: "BenchmarkUnary/client=plain-2 --- SKIP: whatever"},
		{name: "log line", line: "    scenarios_test.go:126: failsafe: no stream interceptor"},
		{name: "header", line: "goos: linux"},
		{name: "pass", line: "PASS"},
		{name: "value not a number", line: "BenchmarkUnary/callers=1/client=plain-2 2000 fast ns/op", wantErr: true},
		{name: "value without unit", line: "BenchmarkUnary/callers=1/client=plain-2 2000 48159 ns/op 8782", wantErr: true},
		{name: "no measurements", line: "BenchmarkUnary/callers=1/client=plain-2 2000", wantErr: true},
		{name: "unit twice", line: "BenchmarkUnary/callers=1/client=plain-2 2000 1 ns/op 2 ns/op", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := parseResult(tt.line)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseResult(%q) error = %v; want error %v", tt.line, err, tt.wantErr)
			}
			if ok != tt.ok {
				t.Fatalf("parseResult(%q) ok = %v; want %v", tt.line, ok, tt.ok)
			}
			if !ok {
				return
			}
			if got.name != tt.want.name || got.top != tt.want.top || got.iters != tt.want.iters ||
				!maps.Equal(got.keys, tt.want.keys) || !maps.Equal(got.metrics, tt.want.metrics) {
				t.Errorf("parseResult(%q) = %+v; want %+v", tt.line, got, tt.want)
			}
		})
	}
}

func TestSkipReasons(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]outcome
	}{
		{
			name: "-v: messages before the SKIP line",
			in: `BenchmarkOutage/kind=ClientStream/client=middleware
    scenarios_test.go:126: middleware: refuses client-streaming and bidi calls (UNIMPLEMENTED)
--- SKIP: BenchmarkOutage/kind=ClientStream/client=middleware
BenchmarkOutage/kind=ClientStream/client=manual+throttle
    scenarios_test.go:129: manual: no retry throttling (the service config has it)
--- SKIP: BenchmarkOutage/kind=ClientStream/client=manual+throttle
`,
			want: map[string]outcome{
				"BenchmarkOutage/kind=ClientStream/client=middleware":      {reason: "middleware: refuses client-streaming and bidi calls (UNIMPLEMENTED)"},
				"BenchmarkOutage/kind=ClientStream/client=manual+throttle": {reason: "manual: no retry throttling (the service config has it)"},
			},
		},
		{
			name: "without -v: messages after the SKIP line, continued",
			in: `--- SKIP: BenchmarkTail/kind=Unary/client=middleware+hedge
    scenarios_test.go:129: middleware: no hedging
        and a second line
BenchmarkTail/kind=Unary/client=plain-2 1 1000 ns/op
`,
			want: map[string]outcome{
				"BenchmarkTail/kind=Unary/client=middleware+hedge": {reason: "middleware: no hedging and a second line"},
			},
		},
		{
			name: "failure, and a skip without a message",
			in: `BenchmarkReplay/kind=Bidi/client=a6
    scenario_test.go:12: a6: RouteChat = context deadline exceeded
--- FAIL: BenchmarkReplay/kind=Bidi/client=a6
BenchmarkReplay/kind=Bidi/client=manual
--- SKIP: BenchmarkReplay/kind=Bidi/client=manual
`,
			want: map[string]outcome{
				"BenchmarkReplay/kind=Bidi/client=a6":     {failed: true, reason: "a6: RouteChat = context deadline exceeded"},
				"BenchmarkReplay/kind=Bidi/client=manual": {},
			},
		},
		{
			name: "messages of a benchmark that ran are no reason",
			in: `BenchmarkFlaky/kind=Unary/client=plain
    scenarios_test.go:1: a note
BenchmarkFlaky/kind=Unary/client=plain-2 1 1000 ns/op
BenchmarkFlaky/kind=Unary/client=grpcbuiltin
--- SKIP: BenchmarkFlaky/kind=Unary/client=grpcbuiltin
`,
			want: map[string]outcome{"BenchmarkFlaky/kind=Unary/client=grpcbuiltin": {}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := parseBench(strings.NewReader(tt.in), "in.txt")
			if err != nil {
				t.Fatalf("parseBench() = %v", err)
			}
			got := make(map[string]outcome)
			for name, o := range out.ends {
				got[name] = o
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("parseBench() ends = %+v; want %+v", got, tt.want)
			}
		})
	}
}

func TestDescribeEnd(t *testing.T) {
	tests := []struct {
		o      outcome
		client string
		want   string
	}{
		{outcome{reason: "middleware: refuses client-streaming and bidi calls (UNIMPLEMENTED)"}, "middleware", "refuses client-streaming and bidi calls (UNIMPLEMENTED)"},
		{outcome{reason: "manual: no retry throttling (the service config has it)"}, "manual+throttle", "no retry throttling (the service config has it)"},
		{outcome{reason: "plain: something"}, "a6", "plain: something"},
		{outcome{failed: true, reason: "a6: timed out"}, "a6", "failed: timed out"},
		{outcome{failed: true}, "a6", "failed"},
		{outcome{}, "a6", "skipped"},
	}
	for _, tt := range tests {
		if got := describeEnd(tt.o, tt.client); got != tt.want {
			t.Errorf("describeEnd(%+v, %q) = %q; want %q", tt.o, tt.client, got, tt.want)
		}
	}
}

func TestParseEnv(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		fields  []envField
		modules []module
		errLine int // the line a lineError names; 0 for none
		wantErr bool
	}{
		{
			name: "every kind of line",
			in: `date: 2026-11-21T11:13:36Z
go: go version go1.26.8 linux/amd64

# a comment
library: 1c4ff9f + uncommitted changes
cpu: AMD EPYC 7B13: 2 cores
module: google.golang.org/grpc v1.85.0
`,
			fields: []envField{
				{"date", "2026-11-21T11:13:36Z"}, {"go", "go version go1.26.8 linux/amd64"},
				{"library", "1c4ff9f + uncommitted changes"}, {"cpu", "AMD EPYC 7B13: 2 cores"},
			},
			modules: []module{{"google.golang.org/grpc", "v1.85.0"}},
		},
		{name: "not key: value", in: "date: today\ncores 2\n", errLine: 2, wantErr: true},
		{name: "module without version", in: "date: today\nmodule: google.golang.org/grpc\n", errLine: 2, wantErr: true},
		{name: "no date", in: "go: go1.26\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := parseEnv(strings.NewReader(tt.in), "env.txt")
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseEnv() error = %v; want error %v", err, tt.wantErr)
			}
			if tt.errLine > 0 {
				var le *lineError
				if !errors.As(err, &le) || le.pos != (pos{"env.txt", tt.errLine}) {
					t.Errorf("parseEnv() error = %v; want a lineError at env.txt:%d", err, tt.errLine)
				}
			}
			if err != nil {
				return
			}
			if !slices.Equal(e.fields, tt.fields) || !slices.Equal(e.modules, tt.modules) {
				t.Errorf("parseEnv() = %+v, %+v; want %+v, %+v", e.fields, e.modules, tt.fields, tt.modules)
			}
		})
	}
}

// successOf parses success-path output given as text.
func successOf(t *testing.T, in string) *successData {
	t.Helper()
	out, err := parseBench(strings.NewReader(in), "success.txt")
	if err != nil {
		t.Fatalf("parseBench() = %v", err)
	}
	d, err := newSuccess(out, "success.txt")
	if err != nil {
		t.Fatalf("newSuccess() = %v", err)
	}
	return d
}

// scenariosOf parses scenario output given as text.
func scenariosOf(t *testing.T, in string) *scenarioData {
	t.Helper()
	out, err := parseBench(strings.NewReader(in), "scenarios.txt")
	if err != nil {
		t.Fatalf("parseBench() = %v", err)
	}
	d, err := newScenarios(out, "scenarios.txt")
	if err != nil {
		t.Fatalf("newScenarios() = %v", err)
	}
	return d
}

// runs returns n result lines of name, with ns/op from ns and the same
// allocs/op.
func runs(name string, allocs int, ns ...int) string {
	var b strings.Builder
	for _, v := range ns {
		b.WriteString(name + "-2 1000 " + strconv.Itoa(v) + " ns/op 9000 B/op " + strconv.Itoa(allocs) + " allocs/op\n")
	}
	return b.String()
}

// checkByWhat returns the check of t about what.
func checkByWhat(t *testing.T, tg target, what string) check {
	t.Helper()
	for _, c := range tg.checks {
		if c.what == what {
			return c
		}
	}
	t.Fatalf("target %q has no check %q; it has %+v", tg.name, what, tg.checks)
	return check{}
}

func TestSuccessTargets(t *testing.T) {
	// Unary: manual and a6 within 3 % of plain, 2 allocs more. Bidi: manual
	// 20 % slower (significant with 5 runs each) and 3 allocs more.
	in := runs("BenchmarkUnary/callers=1/client=plain", 100, 1000, 1010, 1020, 1030, 1040) +
		runs("BenchmarkUnary/callers=1/client=manual", 102, 1010, 1020, 1030, 1040, 1050) +
		runs("BenchmarkUnary/callers=1/client=a6", 102, 1000, 1010, 1020, 1030, 1040) +
		runs("BenchmarkBidi/callers=1/client=plain", 100, 1000, 1010, 1020, 1030, 1040) +
		runs("BenchmarkBidi/callers=1/client=manual", 103, 1200, 1210, 1220, 1230, 1240) +
		runs("BenchmarkBidi/callers=1/client=a6", 101, 1000, 1010, 1020, 1030, 1040)
	d := successOf(t, in)

	time := successTimeTarget(d)
	if c := checkByWhat(t, time, "Unary, 1 caller"); !c.met {
		t.Errorf("Unary time check = %+v; want met", c)
	}
	c := checkByWhat(t, time, "Bidi, 1 caller")
	if c.met {
		t.Errorf("Bidi time check = %+v; want missed", c)
	}
	if !strings.Contains(c.figure, "manual ×1.196 (significant") {
		t.Errorf("Bidi time figure = %q; want manual ×1.196, significant", c.figure)
	}
	if time.met() {
		t.Errorf("time target met with a missed check")
	}

	allocs := successAllocsTarget(d)
	if c := checkByWhat(t, allocs, "Unary"); !c.met || c.figure != "manual +2, a6 +2" {
		t.Errorf("Unary allocs check = %+v; want met, manual +2, a6 +2", c)
	}
	if c := checkByWhat(t, allocs, "Bidi"); c.met || c.figure != "manual +3, a6 +1" {
		t.Errorf("Bidi allocs check = %+v; want missed, manual +3, a6 +1", c)
	}
}

func TestSuccessTargetMissingRow(t *testing.T) {
	// a6 has no Bidi row: the check is missed, not dropped, and check()
	// names the benchmark.
	in := runs("BenchmarkBidi/callers=1/client=plain", 100, 1000) +
		runs("BenchmarkBidi/callers=1/client=manual", 100, 1000)
	d := successOf(t, in)
	if c := checkByWhat(t, successTimeTarget(d), "Bidi, 1 caller"); c.met || !strings.Contains(c.figure, "a6: no result") {
		t.Errorf("Bidi time check = %+v; want missed with a6: no result", c)
	}
	var me *missingError
	if err := d.check(); !errors.As(err, &me) || me.bench != "BenchmarkUnary/callers=1/client=plain" {
		t.Errorf("check() = %v; want missing BenchmarkUnary/callers=1/client=plain (the first kind)", err)
	}
}

// scenarioLine returns a scenario result line with the common metrics and
// extra ones.
func scenarioLine(scenario, kind, client, extra string) string {
	return "Benchmark" + scenario + "/kind=" + kind + "/client=" + client +
		"-2 1 1000 ns/op 1000 calls 0 dup-calls 0.2 p50-ms " + extra + " 100 success-% 0 wrong-calls\n"
}

func TestOutageTarget(t *testing.T) {
	var in string
	for kind, throttled := range map[string]string{"Unary": "1.004", "ServerStream": "1.2", "ClientStream": "1.35", "Bidi": "5.000"} {
		in += scenarioLine("Outage", kind, "a6+throttle", "5 p99-ms "+throttled+" server-attempts/call")
		in += scenarioLine("Outage", kind, "a6", "5 p99-ms 5 server-attempts/call")
		in += scenarioLine("Outage", kind, "grpcbuiltin+throttle", "5 p99-ms 1.1 server-attempts/call")
		in += scenarioLine("Outage", kind, "grpcbuiltin", "5 p99-ms 5 server-attempts/call")
	}
	tg := outageTarget(scenariosOf(t, in))
	for kind, met := range map[string]bool{"Unary": true, "ServerStream": true, "ClientStream": false, "Bidi": false} {
		if c := checkByWhat(t, tg, kind); c.met != met {
			t.Errorf("%s check = %+v; want met %v", kind, c, met)
		}
	}
	if c := checkByWhat(t, tg, "Unary"); c.figure != "a6+throttle 1.004 (unthrottled: a6 5.000); grpcbuiltin+throttle 1.100 (unthrottled: grpcbuiltin 5.000)" {
		t.Errorf("Unary figure = %q", c.figure)
	}
}

func TestTailTarget(t *testing.T) {
	p99 := func(ms string) string { return ms + " p99-ms 1 server-attempts/call" }
	var in string
	for _, kind := range kindOrder {
		in += scenarioLine("Tail", kind, "plain", p99("50.5"))
		in += scenarioLine("Tail", kind, "grpcbuiltin+hedge", p99("50.6"))
		in += scenarioLine("Tail", kind, "a6+hedge", p99("5.5"))
	}
	// Unary: a peer hedges as well as ours. Bidi: ours did not run.
	in += scenarioLine("Tail", "Unary", "failsafe+hedge", p99("5.4"))
	for _, kind := range kindOrder[:3] {
		in += scenarioLine("Tail", kind, "manual+hedge", p99("6.0"))
	}
	in += "BenchmarkTail/kind=Bidi/client=manual+hedge\n" +
		"    scenarios_test.go:129: manual: no hedging today\n" +
		"--- SKIP: BenchmarkTail/kind=Bidi/client=manual+hedge\n"
	tg := tailTarget(scenariosOf(t, in))

	c := checkByWhat(t, tg, "Unary")
	if c.met || !strings.Contains(c.figure, "best peer failsafe+hedge 5.40 ms; ratio 1.019") {
		t.Errorf("Unary check = %+v; want missed against failsafe+hedge", c)
	}
	c = checkByWhat(t, tg, "ServerStream")
	if !c.met || !strings.Contains(c.figure, "best peer plain 50.5 ms; ratio 0.109") {
		t.Errorf("ServerStream check = %+v; want met against plain", c)
	}
	c = checkByWhat(t, tg, "Bidi")
	if !c.met || !strings.Contains(c.figure, "manual+hedge: no hedging today") {
		t.Errorf("Bidi check = %+v; want met by a6+hedge, with manual's reason", c)
	}
}

func TestLargeStreamTarget(t *testing.T) {
	line := func(client, peak, limit string) string {
		return "BenchmarkLargeStream/kind=ClientStream/client=" + client + "-2 1 1 ns/op 10000 msgs " +
			peak + " peak-heap-KiB " + limit + " replay-limit-KiB\n"
	}
	in := line("plain", "2000", "0") +
		line("manual", "2320", "256") + line("a6", "2385", "256") +
		line("manual+64KiB", "2100", "64") + line("a6+64KiB", "2192", "64")
	tg := largeStreamTarget(scenariosOf(t, in))
	if c := checkByWhat(t, tg, "default limit"); c.met {
		t.Errorf("default limit check = %+v; want missed (a6 +385 KiB > 256 + 128)", c)
	}
	if c := checkByWhat(t, tg, "+64KiB"); !c.met {
		t.Errorf("+64KiB check = %+v; want met", c)
	}
}

func TestPartialTargetListsPeers(t *testing.T) {
	var in string
	for _, kind := range []string{"ServerStream", "Bidi"} {
		for _, c := range []string{"plain", "manual", "a6"} {
			in += scenarioLine("Partial", kind, c, "1 p99-ms 1.000 server-attempts/call 100 delivered-%")
		}
	}
	in += strings.Replace(scenarioLine("Partial", "ServerStream", "middleware", "1 p99-ms 2.000 server-attempts/call 100 delivered-%"),
		"0 dup-calls", "500 dup-calls", 1)
	tg := partialTarget(scenariosOf(t, in))
	if !tg.met() {
		t.Errorf("partial target = %+v; want met", tg)
	}
	if len(tg.notes) != 1 || !strings.Contains(tg.notes[0], "middleware on ServerStream (500 dup, 0 wrong calls)") {
		t.Errorf("partial notes = %q; want middleware on ServerStream listed", tg.notes)
	}
}

// testdataConfig is the configuration of the trimmed real outputs in
// testdata.
func testdataConfig() config {
	return config{
		success:   filepath.Join("testdata", "success.txt"),
		scenarios: filepath.Join("testdata", "scenarios.txt"),
		benchstat: filepath.Join("testdata", "benchstat.txt"),
		env:       filepath.Join("testdata", "env.txt"),
	}
}

func TestGenerate(t *testing.T) {
	cfg := testdataConfig()
	cfg.out = filepath.Join(t.TempDir(), "BENCHMARKS.md")
	if err := run(cfg, nil); err != nil {
		t.Fatalf("run() = %v", err)
	}
	doc, err := os.ReadFile(cfg.out)
	if err != nil {
		t.Fatal(err)
	}
	got := string(doc)

	// The sections, in order.
	last := -1
	for _, h := range []string{
		"# Benchmarks\n", "## Targets\n", "## 1 Success path\n", "### 1 caller\n", "### 8 callers\n",
		"## 2 Flaky server\n", "## 3 Outage\n", "## 4 Pushback\n", "## 5 Slow tail\n", "## 6 Streams\n",
		"### Replay\n", "### Large stream\n", "## 7 Partial stream\n", "## Machine and versions\n", "<details>\n",
	} {
		i := strings.Index(got, h)
		if i < 0 || i < last {
			t.Errorf("output has %q at %d, after %d; want it in order", h, i, last)
		}
		last = i
	}

	// Key lines, squeezed of the tables' padding.
	squeezed := squeeze(got)
	for _, want := range []string{
		"Generated by `bench/run.sh`",
		"do not edit by hand. Run on 2026-11-21T11:13:36Z.",
		// Targets whose verdict the testdata fixes.
		"| Outage: throttling | a6+throttle ≤ 1.2 server attempts/call, per kind | Unary: a6+throttle 1.004 (unthrottled: a6 5.000)",
		"| Slow tail: hedging |",
		"best peer failsafe+hedge 5.54 ms; ratio 1.002 — missed",
		"| missed (Unary) |",
		"Peers returning duplicated or wrong data: middleware on ServerStream (500 dup, 500 wrong calls).",
		"| Success path: allocations | ours ≤ plain's median allocs/op + 2, per kind | Unary: manual +4, a6 +4 — missed",
		// Rows a peer cannot run, with the reason: on the success path
		// from the scenarios' skips, and in the scenarios.
		"| | middleware | refuses client-streaming and bidi calls (UNIMPLEMENTED) | | | | | | |",
		"| | failsafe | no stream interceptor | | | | | | |",
		"| | manual | 5.000 | 6.51 | 13.2 | no retry throttling (the service config has it) | | |",
		"| ServerStream | plain | 1.000 | 100.0 | 0 | 0 |",
		"| | middleware | 2.000 | 100.0 | 500 | 500 |",
		// Environment and benchstat.
		"| `google.golang.org/grpc` | v1.85.0 |",
		"| cores | 2 |",
		"```text\ngoos: linux\n",
	} {
		if !strings.Contains(squeezed, want) {
			t.Errorf("output does not contain %q", want)
		}
	}

	// Same inputs, same bytes.
	again, err := generate(testdataConfig())
	if err != nil {
		t.Fatalf("generate() = %v", err)
	}
	if string(again) != got {
		t.Errorf("generate() twice gave different documents")
	}
}

// squeeze collapses runs of spaces, so that checks do not depend on the
// tables' padding.
func squeeze(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

func TestGenerateErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := testdataConfig()
	goodSuccess, err := os.ReadFile(good.success)
	if err != nil {
		t.Fatal(err)
	}
	goodScenarios, err := os.ReadFile(good.scenarios)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(goodSuccess), "\n")
	malformed := strings.Join(lines[:6], "") + "BenchmarkUnary/callers=1/client=a6-2 2000 fast ns/op\n" + strings.Join(lines[6:], "")
	noBidi := strings.NewReplacer("BenchmarkPartial/kind=Bidi/client=a6", "BenchmarkPartial/kind=Bidi/client=xx").Replace(string(goodScenarios))

	tests := []struct {
		name    string
		change  func(*config)
		line    *pos   // the lineError's position, if one
		missing string // the missingError's benchmark, if one
		notFile bool   // an os error
	}{
		{name: "no -env flag", change: func(c *config) { c.env = "" }},
		{name: "no such file", change: func(c *config) { c.benchstat = filepath.Join(dir, "nothing.txt") }, notFile: true},
		{
			name:   "malformed result line",
			change: func(c *config) { c.success = write("success.txt", malformed) },
			line:   &pos{filepath.Join(dir, "success.txt"), 7},
		},
		{
			name: "success line without -benchmem",
			change: func(c *config) {
				c.success = write("nomem.txt", "goos: linux\nBenchmarkUnary/callers=1/client=plain-2 2000 48159 ns/op\n")
			},
			line: &pos{filepath.Join(dir, "nomem.txt"), 2},
		},
		{
			name:   "scenario needed by a target missing",
			change: func(c *config) { c.scenarios = write("scenarios.txt", noBidi) },
			// The Partial row the target needs, renamed away.
			missing: "BenchmarkPartial/kind=Bidi/client=a6",
		},
		{
			name:    "success kind missing",
			change:  func(c *config) { c.success = write("unary.txt", runs("BenchmarkUnary/callers=1/client=plain", 1, 1)) },
			missing: "BenchmarkUnary/callers=1/client=manual",
		},
		{
			name:   "env line",
			change: func(c *config) { c.env = write("env.txt", "date: today\nthis is not a key value line\n") },
			line:   &pos{filepath.Join(dir, "env.txt"), 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testdataConfig()
			tt.change(&cfg)
			cfg.out = filepath.Join(t.TempDir(), "BENCHMARKS.md")
			err := run(cfg, nil)
			if err == nil {
				t.Fatalf("run() = nil; want an error")
			}
			if _, statErr := os.Stat(cfg.out); !errors.Is(statErr, os.ErrNotExist) {
				t.Errorf("run() wrote %s despite error %v", cfg.out, err)
			}
			var le *lineError
			if tt.line != nil && (!errors.As(err, &le) || le.pos != *tt.line) {
				t.Errorf("run() = %v; want a lineError at %v", err, *tt.line)
			}
			var me *missingError
			if tt.missing != "" && (!errors.As(err, &me) || me.bench != tt.missing) {
				t.Errorf("run() = %v; want a missingError for %s", err, tt.missing)
			}
			if tt.notFile && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("run() = %v; want a not-exist error", err)
			}
		})
	}
}
