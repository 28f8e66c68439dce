package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/resilience-go/grpc-resilience/cmd/grpc-chaos/internal/browsertest"
)

// chromiumTimeout bounds one Chromium run.
const chromiumTimeout = time.Minute

// TestReportEndToEnd runs the binary with --report and --json, checks the
// figures of the JSON, and renders the HTML in headless Chromium: every
// chart must have drawn, and a screenshot is kept as an artifact.
func TestReportEndToEnd(t *testing.T) {
	dir := t.TempDir()
	res := runBinary(t, "--calls", "300", "--report", dir, "--json")
	if res.code != 0 {
		t.Fatalf("grpc-chaos --report = exit %d, want 0; stderr:\n%s", res.code, res.stderr)
	}
	rep := decodeReport(t, res.stdout)
	fileJSON, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if string(fileJSON) != res.stdout {
		t.Errorf("report.json differs from the --json output")
	}
	if rep.Tool != name || rep.Plan.Target != "embedded" || rep.Plan.Faults != defaultFaults || rep.Plan.Seed == nil || *rep.Plan.Seed != defaultSeed || rep.Plan.Calls != 300 {
		t.Errorf("plan = %+v, want the default plan against the embedded server, 300 calls", rep.Plan)
	}
	if got, want := len(rep.Rows), len(kinds)*len(policyNames); got != want {
		t.Fatalf("report has %d rows, want %d", got, want)
	}
	for _, row := range rep.Rows {
		if row.Calls != 300 || row.OK > row.Calls || len(row.LatencyQuantilesMs) != 101 {
			t.Errorf("%s/%s: calls %d, ok %d, %d quantiles; want 300 calls, ok ≤ calls, 101 quantiles",
				row.Kind, row.Policy, row.Calls, row.OK, len(row.LatencyQuantilesMs))
		}
		if row.ServerAttempts == nil || *row.ServerAttempts < row.Calls {
			t.Errorf("%s/%s: server attempts = %v, want at least one per call", row.Kind, row.Policy, row.ServerAttempts)
		}
		lat := row.LatencyMs
		if !(lat.P50 <= lat.P95 && lat.P95 <= lat.P99 && lat.P99 <= lat.Max) {
			t.Errorf("%s/%s: latencies %+v, want p50 ≤ p95 ≤ p99 ≤ max", row.Kind, row.Policy, lat)
		}
		// Not a theory check (TestDefaultPlanAgreesWithTheory is), just
		// sanity: retries beat no retries by far under 20% faults.
		if row.Policy != "none" && row.SuccessRate < 0.9 {
			t.Errorf("%s/%s: success rate %.3f, want ≥ 0.9 with 5 attempts", row.Kind, row.Policy, row.SuccessRate)
		}
	}

	chromium := browsertest.FindOrSkip(t)
	page := filepath.Join(dir, "report.html")
	url, err := browsertest.FileURL(page)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), chromiumTimeout)
	defer cancel()
	dom, err := browsertest.DumpDOM(ctx, chromium, url)
	if err != nil {
		t.Fatalf("DumpDOM(report.html) = %v", err)
	}
	rendered := regexp.MustCompile(`data-charts-rendered="(\d+)"`).FindStringSubmatch(dom)
	total := regexp.MustCompile(`data-charts-total="(\d+)"`).FindStringSubmatch(dom)
	wantCharts := 2 + 2*len(kinds) // success and p99, then attempts and latency per kind
	if rendered == nil || total == nil || rendered[1] != total[1] || total[1] != strconv.Itoa(wantCharts) {
		t.Errorf("Chromium rendered charts %v of %v, want %d of %d", rendered, total, wantCharts, wantCharts)
	}
	for _, k := range kinds {
		for _, chart := range []string{"attempts-" + k.name, "latency-" + k.name} {
			if !strings.Contains(dom, `data-chart="`+chart+`"`) {
				t.Errorf("rendered page has no chart %q", chart)
			}
		}
	}
	png := filepath.Join(dir, "grpc-chaos-report.png")
	if err := browsertest.Screenshot(ctx, chromium, url, png, 1280, 4000); err != nil {
		t.Fatalf("Screenshot(report.html) = %v", err)
	}
	kept, err := browsertest.SaveArtifact(png, "grpc-chaos-report.png")
	if err != nil {
		t.Fatalf("keeping the screenshot: %v", err)
	}
	t.Logf("screenshot of the report: %s", kept)
}
