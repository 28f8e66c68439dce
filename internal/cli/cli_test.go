package cli

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		err        error
		want       int
		wantStderr string
	}{
		{nil, 0, ""},
		{errors.New("boom"), 1, "cmd: boom\n"},
		{Usagef("bad %q", "x"), 2, "cmd: bad \"x\"\n"},
		{fmt.Errorf("wrapped: %w", UsageError{errors.New("bad")}), 2, "cmd: wrapped: bad\n"},
		{errors.New("two\nlines"), 1, "cmd: two lines\n"},
	} {
		var stderr bytes.Buffer
		if got := ExitCode("cmd", tc.err, &stderr); got != tc.want || stderr.String() != tc.wantStderr {
			t.Errorf("ExitCode(%v) = %d printing %q, want %d printing %q", tc.err, got, stderr.String(), tc.want, tc.wantStderr)
		}
	}
}
