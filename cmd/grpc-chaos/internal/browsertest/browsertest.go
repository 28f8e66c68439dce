// Package browsertest runs a headless Chromium for tests: it dumps a page's
// DOM after load or takes a screenshot of it, so a test can prove that an
// HTML report renders. Only tests import it.
//
// Every run uses a fresh profile directory, removed afterwards, and flags
// that keep Chromium off the network (no background networking, component
// updates, sync or QUIC). Chromium starts in its own process group, and
// the whole group is killed when the run ends or its context is done, so
// that no helper process outlives the run.
package browsertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// RequireEnv names the environment variable that, set to "1", makes a
// missing Chromium fail tests instead of skipping them.
const RequireEnv = "GRPC_RESILIENCE_REQUIRE_CHROMIUM"

// ArtifactsEnv names the environment variable that sets where tests keep
// artifacts such as screenshots.
const ArtifactsEnv = "GRPC_RESILIENCE_ARTIFACTS"

// waitDelay bounds how long a run waits for Chromium's output after the
// process exited or was killed.
const waitDelay = 5 * time.Second

// names are the executable names Find looks for, in order.
var names = []string{"chromium", "chromium-browser"}

// Find returns the path of the Chromium executable: "chromium" or else
// "chromium-browser" on $PATH. The error wraps exec.ErrNotFound when
// neither is there.
func Find() (string, error) {
	var errs []error
	for _, name := range names {
		path, err := exec.LookPath(name)
		if err == nil {
			return path, nil
		}
		errs = append(errs, err)
	}
	return "", fmt.Errorf("browsertest: no Chromium found: %w", errors.Join(errs...))
}

// FindOrSkip returns the path of the Chromium executable, or skips the test
// when there is none; with RequireEnv set to "1" it fails the test instead.
func FindOrSkip(tb testing.TB) string {
	tb.Helper()
	path, err := Find()
	if err == nil {
		return path
	}
	if os.Getenv(RequireEnv) == "1" {
		tb.Fatalf("%v (%s=1 requires it)", err, RequireEnv)
	}
	tb.Skipf("%v; install chromium to run this test, or set %s=1 to make its absence an error", err, RequireEnv)
	return ""
}

// FileURL returns the file:// URL of path, made absolute.
func FileURL(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String(), nil
}

// DumpDOM loads url in a headless Chromium and returns the DOM as HTML,
// serialised after the page's load event, so it holds what scripts set.
func DumpDOM(ctx context.Context, chromium, url string) (string, error) {
	out, err := run(ctx, chromium, "--dump-dom", url)
	return string(out), err
}

// Screenshot loads url in a headless Chromium with a window of width ×
// height CSS pixels and writes a PNG of the window to pngPath.
func Screenshot(ctx context.Context, chromium, url, pngPath string, width, height int) error {
	abs, err := filepath.Abs(pngPath)
	if err != nil {
		return err
	}
	if _, err := run(ctx, chromium,
		"--screenshot="+abs,
		"--window-size="+strconv.Itoa(width)+","+strconv.Itoa(height),
		url,
	); err != nil {
		return err
	}
	if _, err := os.Stat(abs); err != nil {
		return fmt.Errorf("browsertest: chromium wrote no screenshot: %w", err)
	}
	return nil
}

// ArtifactDir returns the directory where tests keep artifacts, creating
// it: $GRPC_RESILIENCE_ARTIFACTS when set, else "artifacts" in the module
// root, found by walking up from the working directory to go.mod.
func ArtifactDir() (string, error) {
	dir := os.Getenv(ArtifactsEnv)
	if dir == "" {
		root, err := moduleRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(root, "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	return dir, nil
}

// SaveArtifact copies the file src into ArtifactDir under name and returns
// the copy's path.
func SaveArtifact(src, name string) (string, error) {
	dir, err := ArtifactDir()
	if err != nil {
		return "", err
	}
	dst := filepath.Join(dir, name)
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return "", err
	}
	return dst, out.Close()
}

// moduleRoot returns the nearest directory at or above the working
// directory that holds a go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("browsertest: no go.mod at or above the working directory")
		}
		dir = parent
	}
}

// baseFlags keep Chromium headless, offline and quiet.
var baseFlags = []string{
	"--headless",
	"--no-sandbox",
	"--disable-gpu",
	"--disable-quic",
	"--no-first-run",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
}

// run starts Chromium with baseFlags, a fresh profile and args, and
// returns its standard output. Output goes to files rather than pipes so
// that a helper process holding them open cannot stall the wait.
func run(ctx context.Context, chromium string, args ...string) (_ []byte, err error) {
	tmp, err := os.MkdirTemp("", "browsertest-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if rmErr := os.RemoveAll(tmp); rmErr != nil && err == nil {
			err = rmErr
		}
	}()
	profile := filepath.Join(tmp, "profile")
	stdout, err := os.Create(filepath.Join(tmp, "stdout"))
	if err != nil {
		return nil, err
	}
	defer stdout.Close()
	stderr, err := os.Create(filepath.Join(tmp, "stderr"))
	if err != nil {
		return nil, err
	}
	defer stderr.Close()

	flags := append(append(append([]string(nil), baseFlags...), "--user-data-dir="+profile), args...)
	cmd := exec.CommandContext(ctx, chromium, flags...)
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	cmd.Env = append(os.Environ(), "HOME="+tmp)
	cmd.WaitDelay = waitDelay
	startProcessGroup(cmd)
	cmd.Cancel = func() error { return killProcessGroup(cmd) }

	if err := cmd.Start(); err != nil {
		return nil, err
	}
	runErr := cmd.Wait()
	// Chromium forks helpers; end any the browser left behind, also after
	// a clean exit.
	_ = killProcessGroup(cmd)

	if runErr != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			runErr = fmt.Errorf("%w (%w)", ctxErr, runErr)
		}
		return nil, fmt.Errorf("browsertest: %s: %w; stderr: %s", chromium, runErr, tail(stderr.Name()))
	}
	return os.ReadFile(stdout.Name())
}

// tail returns the end of the file at path, for error messages.
func tail(path string) string {
	const keep = 2000
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(b) > keep {
		b = b[len(b)-keep:]
	}
	return string(bytes.TrimSpace(b))
}
