package browsertest_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/resilience-go/grpc-resilience/cmd/grpc-chaos/internal/browsertest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestArtifactDir(t *testing.T) {
	t.Run("env", func(t *testing.T) {
		want := filepath.Join(t.TempDir(), "a", "b")
		t.Setenv(browsertest.ArtifactsEnv, want)
		got, err := browsertest.ArtifactDir()
		if err != nil || got != want {
			t.Fatalf("ArtifactDir() = %q, %v, want %q, nil", got, err, want)
		}
		if info, err := os.Stat(want); err != nil || !info.IsDir() {
			t.Errorf("ArtifactDir() did not create %q: %v", want, err)
		}
	})
	t.Run("module root", func(t *testing.T) {
		t.Setenv(browsertest.ArtifactsEnv, "")
		got, err := browsertest.ArtifactDir()
		if err != nil {
			t.Fatalf("ArtifactDir() = %v, want nil", err)
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(got), "go.mod")); err != nil || filepath.Base(got) != "artifacts" {
			t.Errorf("ArtifactDir() = %q, want artifacts beside go.mod", got)
		}
	})
}

func TestSaveArtifact(t *testing.T) {
	t.Setenv(browsertest.ArtifactsEnv, t.TempDir())
	src := filepath.Join(t.TempDir(), "src.txt")
	if err := os.WriteFile(src, []byte("shot"), 0o644); err != nil {
		t.Fatal(err)
	}
	dst, err := browsertest.SaveArtifact(src, "copy.txt")
	if err != nil {
		t.Fatalf("SaveArtifact() = %v, want nil", err)
	}
	if b, err := os.ReadFile(dst); err != nil || string(b) != "shot" {
		t.Errorf("SaveArtifact() copy holds %q, %v, want %q", b, err, "shot")
	}
}

func TestFileURL(t *testing.T) {
	got, err := browsertest.FileURL("/tmp/a b/report.html")
	if want := "file:///tmp/a%20b/report.html"; err != nil || got != want {
		t.Errorf("FileURL(%q) = %q, %v, want %q, nil", "/tmp/a b/report.html", got, err, want)
	}
	rel, err := browsertest.FileURL("report.html")
	if err != nil || !strings.HasPrefix(rel, "file:///") {
		t.Errorf("FileURL(%q) = %q, %v, want an absolute file URL", "report.html", rel, err)
	}
}
