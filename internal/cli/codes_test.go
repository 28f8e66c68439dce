package cli

import (
	"testing"

	"google.golang.org/grpc/codes"
)

func TestCodeCounts(t *testing.T) {
	for _, tc := range []struct {
		in   map[codes.Code]uint64
		want string
	}{
		{nil, ""},
		{map[codes.Code]uint64{codes.Internal: 1, codes.Unavailable: 3, codes.Canceled: 2}, " (CANCELLED=2 INTERNAL=1 UNAVAILABLE=3)"},
	} {
		if got := CodeCounts(tc.in); got != tc.want {
			t.Errorf("CodeCounts(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
