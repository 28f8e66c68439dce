package status_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.uber.org/goleak"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	rstatus "github.com/resilience-go/grpc-resilience/status"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestClassifyAndRetryable(t *testing.T) {
	tests := []struct {
		code          codes.Code
		class         rstatus.Class
		retry         bool // idempotent=false
		retryIdempote bool // idempotent=true
	}{
		{codes.OK, rstatus.Success, false, false},
		{codes.Canceled, rstatus.Permanent, false, false},
		{codes.Unknown, rstatus.Ambiguous, false, true},
		{codes.InvalidArgument, rstatus.Permanent, false, false},
		{codes.DeadlineExceeded, rstatus.Ambiguous, false, true},
		{codes.NotFound, rstatus.Permanent, false, false},
		{codes.AlreadyExists, rstatus.Permanent, false, false},
		{codes.PermissionDenied, rstatus.Permanent, false, false},
		{codes.ResourceExhausted, rstatus.Ambiguous, false, true},
		{codes.FailedPrecondition, rstatus.Permanent, false, false},
		{codes.Aborted, rstatus.Ambiguous, false, true},
		{codes.OutOfRange, rstatus.Permanent, false, false},
		{codes.Unimplemented, rstatus.Permanent, false, false},
		{codes.Internal, rstatus.Ambiguous, false, true},
		{codes.Unavailable, rstatus.Transient, true, true},
		{codes.DataLoss, rstatus.Permanent, false, false},
		{codes.Unauthenticated, rstatus.Permanent, false, false},
		{codes.Code(17), rstatus.Permanent, false, false},
		{codes.Code(1 << 31), rstatus.Permanent, false, false},
	}
	if got, want := len(tests)-2, len(rstatus.Codes()); got != want {
		t.Fatalf("table covers %d codes, want all %d", got, want)
	}
	for _, tt := range tests {
		t.Run(tt.code.String(), func(t *testing.T) {
			if got := rstatus.Classify(tt.code); got != tt.class {
				t.Errorf("Classify(%v) = %v, want %v", tt.code, got, tt.class)
			}
			if got := rstatus.Retryable(tt.code, false); got != tt.retry {
				t.Errorf("Retryable(%v, false) = %v, want %v", tt.code, got, tt.retry)
			}
			if got := rstatus.Retryable(tt.code, true); got != tt.retryIdempote {
				t.Errorf("Retryable(%v, true) = %v, want %v", tt.code, got, tt.retryIdempote)
			}
		})
	}
}

func TestCodesTable(t *testing.T) {
	infos := rstatus.Codes()
	if len(infos) != 17 {
		t.Fatalf("len(Codes()) = %d, want 17", len(infos))
	}
	classCount := map[rstatus.Class]int{}
	for i, info := range infos {
		if info.Code != codes.Code(i) {
			t.Errorf("Codes()[%d].Code = %v, want %v", i, info.Code, codes.Code(i))
		}
		if info.Reason == "" {
			t.Errorf("Codes()[%d].Reason is empty", i)
		}
		if got, err := rstatus.ParseCode(info.Name); err != nil || got != info.Code {
			t.Errorf("ParseCode(%q) = %v, %v, want %v, nil", info.Name, got, err, info.Code)
		}
		if got := rstatus.Name(info.Code); got != info.Name {
			t.Errorf("Name(%v) = %q, want %q", info.Code, got, info.Name)
		}
		classCount[info.Class]++
	}
	want := map[rstatus.Class]int{rstatus.Success: 1, rstatus.Transient: 1, rstatus.Ambiguous: 5, rstatus.Permanent: 10}
	for c, n := range want {
		if classCount[c] != n {
			t.Errorf("codes in class %v = %d, want %d", c, classCount[c], n)
		}
	}
	// The copy is the caller's: changing it must not change the table.
	infos[14].Class = rstatus.Permanent
	if got := rstatus.Classify(codes.Unavailable); got != rstatus.Transient {
		t.Errorf("after editing the copy, Classify(Unavailable) = %v, want Transient", got)
	}
}

func TestGeneratedByGRPC(t *testing.T) {
	generated := map[codes.Code]bool{
		codes.OK: true, codes.Canceled: true, codes.Unknown: true, codes.DeadlineExceeded: true,
		codes.ResourceExhausted: true, codes.Unimplemented: true, codes.Internal: true,
		codes.Unavailable: true, codes.Unauthenticated: true,
	}
	for _, info := range rstatus.Codes() {
		if info.GeneratedByGRPC != generated[info.Code] {
			t.Errorf("Lookup(%v).GeneratedByGRPC = %v, want %v", info.Code, info.GeneratedByGRPC, generated[info.Code])
		}
	}
	if _, ok := rstatus.Lookup(codes.Code(17)); ok {
		t.Errorf("Lookup(17) found a code, want none")
	}
}

func TestParseCode(t *testing.T) {
	good := []struct {
		in   string
		want codes.Code
	}{
		{"UNAVAILABLE", codes.Unavailable},
		{"unavailable", codes.Unavailable},
		{"Unavailable", codes.Unavailable},
		{"uNaVaIlAbLe", codes.Unavailable},
		{"DEADLINE_EXCEEDED", codes.DeadlineExceeded},
		{"deadline_exceeded", codes.DeadlineExceeded},
		{"DeadlineExceeded", codes.DeadlineExceeded},
		{"CANCELLED", codes.Canceled},
		{"Canceled", codes.Canceled},
		{"ok", codes.OK},
		{"0", codes.OK},
		{"14", codes.Unavailable},
		{"16", codes.Unauthenticated},
	}
	for _, tt := range good {
		got, err := rstatus.ParseCode(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseCode(%q) = %v, %v, want %v, nil", tt.in, got, err, tt.want)
		}
	}
	bad := []string{"", " UNAVAILABLE", "UNAVAILABLE ", "UNAVAIL", "17", "-1", "+14", "014", "1.0", "99999999999999999999", "0x0E", "UN AVAILABLE", "Code(14)"}
	for _, in := range bad {
		got, err := rstatus.ParseCode(in)
		if err == nil {
			t.Errorf("ParseCode(%q) = %v, nil, want an error", in, got)
			continue
		}
		if in != "" && !containsQuoted(err.Error(), in) {
			t.Errorf("ParseCode(%q) error %q does not quote the bad value", in, err)
		}
	}
}

func containsQuoted(msg, v string) bool {
	return strings.Contains(msg, fmt.Sprintf("%q", v))
}

type wrapErr struct{ err error }

func (w wrapErr) Error() string { return "wrapped: " + w.err.Error() }
func (w wrapErr) Unwrap() error { return w.err }

type nilStatusErr struct{}

func (nilStatusErr) Error() string              { return "nil status" }
func (nilStatusErr) GRPCStatus() *status.Status { return nil }

func TestCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want codes.Code
	}{
		{"nil", nil, codes.OK},
		{"status", status.Error(codes.Unavailable, "x"), codes.Unavailable},
		{"fmt wrapped", fmt.Errorf("call: %w", status.Error(codes.Aborted, "x")), codes.Aborted},
		{"custom wrapped", wrapErr{status.Error(codes.NotFound, "x")}, codes.NotFound},
		{"deadline", context.DeadlineExceeded, codes.DeadlineExceeded},
		{"wrapped deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), codes.DeadlineExceeded},
		{"canceled", context.Canceled, codes.Canceled},
		{"plain", errors.New("boom"), codes.Unknown},
		{"nil status", nilStatusErr{}, codes.Unknown},
	}
	for _, tt := range tests {
		if got := rstatus.Code(tt.err); got != tt.want {
			t.Errorf("Code(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestNameAndClassString(t *testing.T) {
	if got, want := rstatus.Name(codes.Code(99)), "CODE(99)"; got != want {
		t.Errorf("Name(99) = %q, want %q", got, want)
	}
	for c, want := range map[rstatus.Class]string{rstatus.Success: "Success", rstatus.Transient: "Transient", rstatus.Ambiguous: "Ambiguous", rstatus.Permanent: "Permanent", rstatus.Class(9): "Class(9)"} {
		if got := c.String(); got != want {
			t.Errorf("Class(%d).String() = %q, want %q", int(c), got, want)
		}
	}
}
