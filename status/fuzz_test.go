package status_test

import (
	"strconv"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	rstatus "github.com/resilience-go/grpc-resilience/status"
)

// canonicalNames are the 17 code names of gRPC's codes.proto, in numeric
// order, written out here so that the fuzz oracle does not lean on the
// table it checks.
var canonicalNames = [...]string{
	"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
	"NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
	"FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
	"INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
}

// FuzzParseCode checks ParseCode against its documentation: it accepts
// exactly a code's canonical name or grpc-go's Code.String spelling in any
// ASCII case, or its decimal number 0 to 16 written without sign, space or
// leading zero, and returns that code; every other input is an error that
// quotes it (the empty input's error says it is empty). An accepted code
// lies in 0..16, and its canonical name, its lower-case name, its
// Code.String spelling and its number all parse back to it.
func FuzzParseCode(f *testing.F) {
	for _, s := range []string{"UNAVAILABLE", "unavailable", "DeadlineExceeded", "14", "016", "", "17"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := rstatus.ParseCode(s)
		want, ok := referenceParseCode(s)
		if err != nil {
			if ok {
				t.Fatalf("ParseCode(%q) = %v, want %v", s, err, want)
			}
			if s == "" {
				if !strings.Contains(err.Error(), "empty") {
					t.Errorf("ParseCode(%q) = %q, want an error that says the value is empty", s, err)
				}
			} else if !strings.Contains(err.Error(), strconv.Quote(s)) {
				t.Errorf("ParseCode(%q) = %q, want an error quoting %s", s, err, strconv.Quote(s))
			}
			return
		}
		if !ok {
			t.Fatalf("ParseCode(%q) = %v, nil, want an error: not a code name or number", s, got)
		}
		if got != want {
			t.Fatalf("ParseCode(%q) = %v, want %v", s, got, want)
		}
		if got > codes.Unauthenticated {
			t.Fatalf("ParseCode(%q) = %d, want a code in 0..16", s, uint32(got))
		}
		for _, again := range []string{
			rstatus.Name(got),
			strings.ToLower(rstatus.Name(got)),
			got.String(),
			strconv.Itoa(int(got)),
		} {
			if c, err := rstatus.ParseCode(again); err != nil || c != got {
				t.Errorf("ParseCode(%q) = %v, %v, want %v, nil (from ParseCode(%q))", again, c, err, got, s)
			}
		}
	})
}

// referenceParseCode is ParseCode's documented behaviour, written plainly.
func referenceParseCode(s string) (codes.Code, bool) {
	for i, name := range canonicalNames {
		c := codes.Code(i)
		if s == strconv.Itoa(i) || asciiEqualFold(s, name) || asciiEqualFold(s, c.String()) {
			return c, true
		}
	}
	return 0, false
}

// asciiEqualFold reports whether a and b are equal when ASCII letters are
// compared without regard to case; every other byte must match exactly.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	lower := func(c byte) byte {
		if 'A' <= c && c <= 'Z' {
			return c + 'a' - 'A'
		}
		return c
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}
