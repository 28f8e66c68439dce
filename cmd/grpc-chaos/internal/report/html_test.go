package report_test

import (
	"bytes"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/resilience-go/grpc-resilience/cmd/grpc-chaos/internal/report"
)

var (
	allKinds    = []string{"unary", "server-stream", "client-stream", "bidi"}
	allPolicies = []string{"none", "manual", "a6-retry", "a6-hedge"}
)

// figureRE matches a chart's figure up to its end.
var figureRE = regexp.MustCompile(`(?s)<figure class="chart" data-chart="([^"]*)">(.*?)</figure>`)

// chartNames returns the data-chart names of doc's figures, in order.
func chartNames(doc string) []string {
	var names []string
	for _, m := range figureRE.FindAllStringSubmatch(doc, -1) {
		names = append(names, m[1])
	}
	return names
}

// wantChartNames returns the charts WriteHTML should draw for kinds.
func wantChartNames(kinds ...string) []string {
	if len(kinds) == 0 {
		return nil
	}
	names := []string{"success", "p99"}
	for _, k := range kinds {
		names = append(names, "attempts-"+k, "latency-"+k)
	}
	return names
}

// checkFigures reports figures that do not hold exactly one <svg>, and
// <svg> elements outside figures.
func checkFigures(t *testing.T, doc string) {
	t.Helper()
	inFigures := 0
	for _, m := range figureRE.FindAllStringSubmatch(doc, -1) {
		n := strings.Count(m[2], "<svg")
		if n != 1 {
			t.Errorf("figure %q holds %d <svg> elements, want 1", m[1], n)
		}
		if !strings.Contains(m[2], "<figcaption>") {
			t.Errorf("figure %q has no <figcaption>", m[1])
		}
		inFigures += n
	}
	if all := strings.Count(doc, "<svg"); all != inFigures {
		t.Errorf("WriteHTML wrote %d <svg> elements, %d of them in figures; want all in figures", all, inFigures)
	}
	if strings.Contains(doc, "<?xml") || strings.Contains(doc, "<!DOCTYPE svg") {
		t.Errorf("WriteHTML left an XML prolog or SVG doctype in the page")
	}
}

// xmlnsRE matches a namespace declaration attribute.
var xmlnsRE = regexp.MustCompile(`\sxmlns(?::[A-Za-z][\w.-]*)?="([^"]*)"`)

// fetchAttrRE matches a tag's attribute that makes a browser fetch.
var fetchAttrRE = regexp.MustCompile(`<[a-z][^<>]*\s(?:src|srcset|href|xlink:href|poster|data|action)\s*=[^>]*>`)

// externalRefs returns what in doc could make a browser fetch something:
// a URL with a scheme other than data:, an src attribute, an @import, or a
// CSS url() that is not a data: URL. Namespace declarations inside an
// <svg> start tag are names, not fetched, and do not count.
func externalRefs(doc string) []string {
	var refs []string
	var stripped strings.Builder
	last := 0
	for _, m := range xmlnsRE.FindAllStringSubmatchIndex(doc, -1) {
		start, end := m[0], m[1]
		value := doc[m[2]:m[3]]
		tagStart := strings.LastIndex(doc[:start], "<")
		inSVGTag := tagStart >= 0 && strings.HasPrefix(doc[tagStart:], "<svg") && !strings.Contains(doc[tagStart:start], ">")
		if !inSVGTag || !strings.HasPrefix(value, "http://www.w3.org/") {
			refs = append(refs, "namespace outside an <svg> tag or off w3.org: "+doc[start:end])
		}
		stripped.WriteString(doc[last:start])
		last = end
	}
	stripped.WriteString(doc[last:])
	rest := strings.ToLower(stripped.String())

	for _, pat := range []string{"http:", "https:", "ftp:", "ws:", "wss:", "@import"} {
		if i := strings.Index(rest, pat); i >= 0 {
			refs = append(refs, rest[max(i-40, 0):min(i+60, len(rest))])
		}
	}
	refs = append(refs, fetchAttrRE.FindAllString(rest, -1)...)
	for i := 0; ; {
		j := strings.Index(rest[i:], "url(")
		if j < 0 {
			break
		}
		i += j + len("url(")
		if arg := strings.TrimLeft(rest[i:], `"' `); !strings.HasPrefix(arg, "data:") {
			refs = append(refs, "url("+arg[:min(40, len(arg))])
		}
	}
	return refs
}

func writeHTML(t *testing.T, r *report.Report) string {
	t.Helper()
	var buf bytes.Buffer
	if err := report.WriteHTML(&buf, r); err != nil {
		t.Fatalf("WriteHTML() = %v, want nil", err)
	}
	return buf.String()
}

func TestWriteHTMLCharts(t *testing.T) {
	kinds := []string{"unary", "bidi"}
	r := syntheticReport(kinds, []string{"none", "a6-retry", "a6-hedge"})
	doc := writeHTML(t, r)

	if diff := cmp.Diff(wantChartNames(kinds...), chartNames(doc)); diff != "" {
		t.Errorf("WriteHTML() chart names (-want +got):\n%s", diff)
	}
	checkFigures(t, doc)
	if refs := externalRefs(doc); len(refs) > 0 {
		t.Errorf("WriteHTML() references the network: %q, want none", refs)
	}
	for _, want := range []string{
		"<title>grpc-chaos report</title>",
		"abort=UNAVAILABLE:20%;delay=5ms:10%",
		"A6 hedgingPolicy: 3 attempts, 20ms apart",
		"/routeguide.RouteGuide/RouteChat",
		"document.body.dataset.chartsRendered",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("WriteHTML() page lacks %q", want)
		}
	}
}

func TestWriteHTMLEscapes(t *testing.T) {
	const hostile = `<script>alert("x")</script>`
	r := syntheticReport([]string{"unary"}, []string{"none", "a6-retry"})
	r.Plan.Faults = "abort=UNAVAILABLE:20%;" + hostile
	r.Plan.Target = `"><img src=x onerror=alert(1)>`
	r.Plan.Policies[0].Description = hostile
	r.Plan.Policies[1].Name = "a6-retry" + hostile
	r.Rows[1].Policy = r.Plan.Policies[1].Name
	r.Rows[0].Codes[hostile] = 1
	r.SLO = &report.SLOResult{Spec: hostile, Checks: []report.SLOCheck{{Objective: hostile, Kind: "unary", Policy: "none"}}}
	doc := writeHTML(t, r)

	for _, bad := range []string{"<script>alert", "<img"} {
		if strings.Contains(doc, bad) {
			t.Errorf("WriteHTML() page holds %q unescaped", bad)
		}
	}
	if got := strings.Count(doc, "<script"); got != 1 {
		t.Errorf("WriteHTML() page holds %d <script> elements, want 1 (its own)", got)
	}
	if !strings.Contains(doc, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
		t.Errorf("WriteHTML() page lacks the escaped fault spec")
	}
	// The chart legends, drawn by gonum/plot, escape the policy name too.
	if !strings.Contains(doc, "a6-retry&lt;script&gt;") {
		t.Errorf("WriteHTML() page lacks the escaped policy name")
	}
	if refs := externalRefs(doc); len(refs) > 0 {
		t.Errorf("WriteHTML() references the network: %q, want none", refs)
	}
}

func TestWriteHTMLEdgeCases(t *testing.T) {
	zeroCalls := report.Row{Kind: "unary", Policy: "none", SuccessRate: math.NaN(), AttemptsPerCall: math.Inf(1)}
	flat := make([]float64, 101)
	zeroLatency := report.Row{
		Kind: "unary", Policy: "none", Calls: 10, OK: 10, SuccessRate: 1, Attempts: 10, AttemptsPerCall: 1,
		LatencyQuantilesMs: flat, AttemptsHistogram: []int{10}, Codes: map[string]int{"OK": 10},
	}
	spread := make([]float64, 101)
	for i := range spread {
		spread[i] = 0.2 * math.Pow(1.09, float64(i)) // 0.2ms to about 1s: a log axis
	}
	withZero := slices.Clone(spread)
	withZero[0] = 0 // no log axis for a zero latency

	one := func(rows ...report.Row) *report.Report {
		return &report.Report{Plan: report.PlanInfo{Kinds: []string{"unary"}}, Rows: rows}
	}
	tests := []struct {
		name string
		r    *report.Report
		want []string
	}{
		{"empty report", &report.Report{}, nil},
		{"plan without rows", &report.Report{Plan: syntheticReport(allKinds, allPolicies).Plan}, nil},
		{"zero calls", one(zeroCalls), wantChartNames("unary")},
		{"zero latencies", one(zeroLatency), wantChartNames("unary")},
		{"one quantile", one(report.Row{Kind: "unary", Policy: "none", Calls: 1, LatencyQuantilesMs: []float64{3}, AttemptsHistogram: []int{0, 0, 1}}), wantChartNames("unary")},
		{"negative and huge figures", one(report.Row{Kind: "unary", Policy: "none", Calls: 1, SuccessRate: -1, LatencyMs: report.Latency{P99: 1e12}, LatencyQuantilesMs: []float64{-1, 1e12}, AttemptsHistogram: []int{-3}}), wantChartNames("unary")},
		{"log latency axis", one(report.Row{Kind: "unary", Policy: "none", Calls: 5, LatencyQuantilesMs: spread}), wantChartNames("unary")},
		{"zero latency among a wide spread", one(report.Row{Kind: "unary", Policy: "none", Calls: 5, LatencyQuantilesMs: withZero}), wantChartNames("unary")},
		{"one policy, no server counters", syntheticReport([]string{"server-stream"}, []string{"manual"}), wantChartNames("server-stream")},
		{"kind and policy missing from the plan", &report.Report{Plan: report.PlanInfo{Kinds: []string{"unary"}}, Rows: []report.Row{{Kind: "bidi", Policy: "x", Calls: 1}}}, wantChartNames("bidi")},
		{"policy missing in one kind", func() *report.Report {
			r := syntheticReport([]string{"unary", "bidi"}, allPolicies)
			r.Rows = slices.Delete(r.Rows, 5, 6)
			return r
		}(), wantChartNames("unary", "bidi")},
		{"very long policy name", func() *report.Report {
			r := syntheticReport([]string{"unary"}, []string{"none", "manual"})
			r.Rows[1].Policy = strings.Repeat("long-policy-name-", 40)
			return r
		}(), wantChartNames("unary")},
		{"many policies", func() *report.Report {
			r := syntheticReport([]string{"unary"}, allPolicies)
			for i := range 9 {
				row := r.Rows[i%len(r.Rows)]
				row.Policy = "extra-" + strings.Repeat("p", i)
				r.Rows = append(r.Rows, row)
			}
			return r
		}(), wantChartNames("unary")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := writeHTML(t, tt.r)
			if diff := cmp.Diff(tt.want, chartNames(doc)); diff != "" {
				t.Errorf("WriteHTML() chart names (-want +got):\n%s", diff)
			}
			checkFigures(t, doc)
			if !strings.HasSuffix(doc, "</html>\n") {
				t.Errorf("WriteHTML() page ends in %q, want </html>", doc[max(len(doc)-20, 0):])
			}
		})
	}
}

func TestWriteHTMLNil(t *testing.T) {
	var buf bytes.Buffer
	if err := report.WriteHTML(&buf, nil); err == nil {
		t.Errorf("WriteHTML(nil) = nil, want an error")
	}
}

// TestExternalRefs checks the checker: a test that cannot fail proves
// nothing.
func TestExternalRefs(t *testing.T) {
	tests := []struct {
		doc      string
		external bool
	}{
		{`<svg width="1" xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"></svg>`, false},
		{`<style>@font-face{src: url(data:font/ttf;base64,AAAA)}</style>`, false},
		{`<div xmlns="http://www.w3.org/1999/xhtml"></div>`, true},
		{`<svg xmlns="http://evil.example/"></svg>`, true},
		{`<a href="https://example.com/">x</a>`, true},
		{`<img src="x.png">`, true},
		{`<p>&lt;img src=x&gt;</p>`, false},
		{`<style>body{background:url("/x.png")}</style>`, true},
		{`<svg xmlns="http://www.w3.org/2000/svg"><image xlink:href="HTTP://example.com/x.png"/></svg>`, true},
	}
	for _, tt := range tests {
		if got := externalRefs(tt.doc); (len(got) > 0) != tt.external {
			t.Errorf("externalRefs(%q) = %q, want references: %t", tt.doc, got, tt.external)
		}
	}
}

func TestWriteJSON(t *testing.T) {
	r := syntheticReport([]string{"unary"}, []string{"none"})
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, r); err != nil {
		t.Fatalf("WriteJSON() = %v, want nil", err)
	}
	got := buf.String()
	if !strings.HasPrefix(got, "{\n  \"tool\": \"grpc-chaos\",\n") {
		t.Errorf("WriteJSON() starts %q, want two-space indented JSON", got[:min(40, len(got))])
	}
	if !strings.HasSuffix(got, "}\n") {
		t.Errorf("WriteJSON() ends %q, want a closing brace and newline", got[max(len(got)-10, 0):])
	}
}
