package report_test

import (
	"context"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/resilience-go/grpc-resilience/cmd/grpc-chaos/internal/browsertest"
	"github.com/resilience-go/grpc-resilience/cmd/grpc-chaos/internal/report"
)

const (
	// chromiumTimeout bounds each Chromium run.
	chromiumTimeout = 60 * time.Second
	// screenshotWidth and screenshotHeight are the window's CSS pixels.
	screenshotWidth, screenshotHeight = 1280, 4000
	// minScreenshotBytes is well below what a page of ten charts encodes
	// to; a blank or failed page is smaller.
	minScreenshotBytes = 50_000
	// screenshotArtifact is the screenshot's name among the artifacts.
	screenshotArtifact = "grpc-chaos-report-unit.png"
)

var (
	renderedRE = regexp.MustCompile(`data-charts-rendered="(\d+)"`)
	totalRE    = regexp.MustCompile(`data-charts-total="(\d+)"`)
)

// TestWriteHTMLChromium loads the page in a headless Chromium and checks
// that every chart drew with a non-empty box, then keeps a screenshot.
func TestWriteHTMLChromium(t *testing.T) {
	chromium := browsertest.FindOrSkip(t)

	r := syntheticReport(allKinds, allPolicies)
	r.SLO = &report.SLOResult{Spec: "success>=99%,p99<=50ms", Checks: []report.SLOCheck{
		{Objective: "success>=99%", Kind: "unary", Policy: "a6-retry", Value: 100, Met: true},
		{Objective: "p99<=50ms", Kind: "unary", Policy: "a6-retry", Value: 61.2},
	}}
	want := len(wantChartNames(allKinds...))

	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	f, err := os.Create(page)
	if err != nil {
		t.Fatal(err)
	}
	if err := report.WriteHTML(f, r); err != nil {
		f.Close()
		t.Fatalf("WriteHTML() = %v, want nil", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	url, err := browsertest.FileURL(page)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("dump-dom", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), chromiumTimeout)
		defer cancel()
		dom, err := browsertest.DumpDOM(ctx, chromium, url)
		if err != nil {
			t.Fatalf("DumpDOM(%s) = %v, want nil", url, err)
		}
		rendered, total := attrInt(renderedRE, dom), attrInt(totalRE, dom)
		if total != want {
			t.Errorf("DumpDOM(%s): data-charts-total = %d, want %d", url, total, want)
		}
		if rendered != want {
			t.Errorf("DumpDOM(%s): data-charts-rendered = %d, want %d", url, rendered, want)
		}
	})

	t.Run("screenshot", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), chromiumTimeout)
		defer cancel()
		shot := filepath.Join(dir, "report.png")
		if err := browsertest.Screenshot(ctx, chromium, url, shot, screenshotWidth, screenshotHeight); err != nil {
			t.Fatalf("Screenshot(%s) = %v, want nil", url, err)
		}
		info, err := os.Stat(shot)
		if err != nil {
			t.Fatal(err)
		}
		if info.Size() < minScreenshotBytes {
			t.Errorf("Screenshot(%s) wrote %d bytes, want at least %d", url, info.Size(), minScreenshotBytes)
		}
		pf, err := os.Open(shot)
		if err != nil {
			t.Fatal(err)
		}
		defer pf.Close()
		img, err := png.Decode(pf)
		if err != nil {
			t.Fatalf("png.Decode(screenshot) = %v, want nil", err)
		}
		if b := img.Bounds(); b.Dx() != screenshotWidth {
			t.Errorf("screenshot is %d pixels wide, want %d", b.Dx(), screenshotWidth)
		}
		kept, err := browsertest.SaveArtifact(shot, screenshotArtifact)
		if err != nil {
			t.Fatalf("SaveArtifact() = %v, want nil", err)
		}
		t.Logf("screenshot: %s", kept)
	})
}

// attrInt returns the number re captures from dom, or -1.
func attrInt(re *regexp.Regexp, dom string) int {
	m := re.FindStringSubmatch(dom)
	if m == nil {
		return -1
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return -1
	}
	return n
}
