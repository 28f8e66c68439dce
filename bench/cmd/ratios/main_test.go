package main

import (
	"bytes"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestParseLine(t *testing.T) {
	tests := []struct {
		line          string
		axis          string // "" means client
		kind, flavour string
		s             sample
		ok            bool
	}{
		{
			line: "BenchmarkUnary/client=plain-2   \t    2000\t     48159 ns/op\t    8782 B/op\t     148 allocs/op",
			kind: "Unary", flavour: "plain", s: sample{48159, 8782, 148}, ok: true,
		},
		{
			line: "BenchmarkBidi/client=a6 2000 71392.5 ns/op",
			kind: "Bidi", flavour: "a6", s: sample{71392.5, -1, -1}, ok: true,
		},
		{
			line: "BenchmarkServerUnary/server=faultinject-2 2000 48000 ns/op 8853 B/op 150 allocs/op", axis: "server",
			kind: "ServerUnary", flavour: "faultinject", s: sample{48000, 8853, 150}, ok: true,
		},
		{line: "BenchmarkServerUnary/server=faultinject-2 2000 48000 ns/op"},
		{line: "BenchmarkUnary-2 2000 48159 ns/op"},
		{line: "BenchmarkUnary/client=plain-2 2000 48159 MB/s"},
		{line: "BenchmarkUnary/client=plain-2 --- SKIP: whatever"},
		{line: "goos: linux"},
		{line: "PASS"},
	}
	for _, tt := range tests {
		axis := tt.axis
		if axis == "" {
			axis = "client"
		}
		kind, flavour, s, ok := parseLine(tt.line, axis)
		if kind != tt.kind || flavour != tt.flavour || s != tt.s || ok != tt.ok {
			t.Errorf("parseLine(%q, %q) = %q, %q, %+v, %v; want %q, %q, %+v, %v",
				tt.line, axis, kind, flavour, s, ok, tt.kind, tt.flavour, tt.s, tt.ok)
		}
	}
}

func TestMedian(t *testing.T) {
	ns := func(s sample) float64 { return s.nsPerOp }
	tests := []struct {
		in   []float64
		want float64
	}{
		{nil, -1},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tt := range tests {
		var ss []sample
		for _, v := range tt.in {
			ss = append(ss, sample{nsPerOp: v})
		}
		if got := median(ss, ns); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestPrint(t *testing.T) {
	in := `BenchmarkUnary/client=plain-2 100 100 ns/op 10 B/op 10 allocs/op
BenchmarkUnary/client=plain-2 100 300 ns/op 10 B/op 10 allocs/op
BenchmarkUnary/client=manual-2 100 220 ns/op 12 B/op 13 allocs/op
BenchmarkBidi/client=plain-2 100 100 ns/op 10 B/op 10 allocs/op
`
	rs := newResults("client")
	if err := rs.read(strings.NewReader(in)); err != nil {
		t.Fatalf("read = %v", err)
	}
	var out bytes.Buffer
	if err := rs.print(&out, "plain"); err != nil {
		t.Fatalf("print = %v", err)
	}
	got := strings.Join(strings.Fields(out.String()), " ")
	for _, want := range []string{
		"Unary plain 2 200 1.000 10 10 +0",
		"Unary manual 1 220 1.100 12 13 +3",
		"Bidi plain 1 100 1.000 10 10 +0",
		"Bidi manual 0 no result",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("print output %q does not contain %q", got, want)
		}
	}
}
