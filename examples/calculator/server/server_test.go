package server

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/resilience-go/grpc-resilience/examples/calculator/calculatorpb"
)

func TestAddMultiply(t *testing.T) {
	const (
		maxI = math.MaxInt32
		minI = math.MinInt32
	)
	for _, tc := range []struct {
		method   string
		a, b     int32
		want     int32
		wantCode codes.Code
	}{
		{"Add", 2, 3, 5, codes.OK},
		{"Add", -20, 62, 42, codes.OK},
		{"Add", 0, 0, 0, codes.OK},
		{"Add", maxI, 0, maxI, codes.OK},
		{"Add", maxI - 1, 1, maxI, codes.OK},
		{"Add", maxI, 1, 0, codes.OutOfRange},
		{"Add", maxI, maxI, 0, codes.OutOfRange},
		{"Add", minI, 0, minI, codes.OK},
		{"Add", minI, maxI, -1, codes.OK},
		{"Add", minI, -1, 0, codes.OutOfRange},
		{"Add", minI, minI, 0, codes.OutOfRange},
		{"Multiply", 6, 7, 42, codes.OK},
		{"Multiply", -4, 8, -32, codes.OK},
		{"Multiply", maxI, 1, maxI, codes.OK},
		{"Multiply", maxI, -1, -maxI, codes.OK},
		{"Multiply", minI, 1, minI, codes.OK},
		{"Multiply", minI, 0, 0, codes.OK},
		{"Multiply", minI, -1, 0, codes.OutOfRange}, // -MinInt32 is MaxInt32+1
		{"Multiply", maxI, 2, 0, codes.OutOfRange},
		{"Multiply", minI, 2, 0, codes.OutOfRange},
		{"Multiply", 1 << 16, 1 << 16, 0, codes.OutOfRange},
		{"Multiply", 46341, 46341, 0, codes.OutOfRange},
		{"Multiply", 46340, 46340, 2147395600, codes.OK},
		{"Multiply", maxI, maxI, 0, codes.OutOfRange},
		{"Multiply", minI, minI, 0, codes.OutOfRange},
	} {
		s := New()
		req := &pb.CalcRequest{A: tc.a, B: tc.b}
		var reply *pb.CalcReply
		var err error
		if tc.method == "Add" {
			reply, err = s.Add(context.Background(), req)
		} else {
			reply, err = s.Multiply(context.Background(), req)
		}
		if got := status.Code(err); got != tc.wantCode || reply.GetResult() != tc.want {
			t.Errorf("%s(%d, %d) = %d, %v; want %d, %v", tc.method, tc.a, tc.b, reply.GetResult(), err, tc.want, tc.wantCode)
		}
		if err != nil {
			// The message names the call and its operands.
			if op := fmt.Sprintf("%s(%d, %d)", tc.method, tc.a, tc.b); !strings.Contains(status.Convert(err).Message(), op) {
				t.Errorf("%s(%d, %d) message = %q, want it to name %q", tc.method, tc.a, tc.b, status.Convert(err).Message(), op)
			}
		}
		if s.Total() != 0 || s.Accumulated() != 0 {
			t.Errorf("%s(%d, %d) changed the running total to %d (%d calls), want it untouched", tc.method, tc.a, tc.b, s.Total(), s.Accumulated())
		}
	}
}

// TestAccumulate runs a sequence of calls on one server: overflows leave
// the total unchanged.
func TestAccumulate(t *testing.T) {
	s := New()
	for i, tc := range []struct {
		value      int32
		want       int32
		wantCode   codes.Code
		wantCalls  int
		wantInText string
	}{
		{10, 10, codes.OK, 1, ""},
		{-3, 7, codes.OK, 2, ""},
		{math.MaxInt32 - 7, math.MaxInt32, codes.OK, 3, ""},
		{1, 0, codes.OutOfRange, 3, "Accumulate(1) to total 2147483647"},
		{math.MaxInt32, 0, codes.OutOfRange, 3, "Accumulate(2147483647) to total 2147483647"},
		{0, math.MaxInt32, codes.OK, 4, ""},
		{math.MinInt32, -1, codes.OK, 5, ""},
		{math.MinInt32, 0, codes.OutOfRange, 5, "Accumulate(-2147483648) to total -1"},
		{math.MinInt32 + 1, math.MinInt32, codes.OK, 6, ""},
		{-1, 0, codes.OutOfRange, 6, "Accumulate(-1) to total -2147483648"},
		{math.MaxInt32, -1, codes.OK, 7, ""},
	} {
		reply, err := s.Accumulate(context.Background(), &pb.AccumulateRequest{Value: tc.value})
		if got := status.Code(err); got != tc.wantCode || reply.GetResult() != tc.want {
			t.Errorf("call %d: Accumulate(%d) = %d, %v; want %d, %v", i, tc.value, reply.GetResult(), err, tc.want, tc.wantCode)
		}
		if err != nil && !strings.Contains(status.Convert(err).Message(), tc.wantInText) {
			t.Errorf("call %d: Accumulate(%d) message = %q, want it to contain %q", i, tc.value, status.Convert(err).Message(), tc.wantInText)
		}
		if got := s.Accumulated(); got != tc.wantCalls {
			t.Errorf("call %d: Accumulated() after Accumulate(%d) = %d, want %d", i, tc.value, got, tc.wantCalls)
		}
	}
	if got, want := s.Total(), int32(-1); got != want {
		t.Errorf("Total() = %d, want %d", got, want)
	}
}

// TestAccumulateConcurrent checks that concurrent calls each add exactly
// once.
func TestAccumulateConcurrent(t *testing.T) {
	const goroutines, each = 8, 100
	s := New()
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range each {
				_, _ = s.Accumulate(context.Background(), &pb.AccumulateRequest{Value: 2})
			}
		})
	}
	wg.Wait()
	if got, want := s.Total(), int32(2*goroutines*each); got != want {
		t.Errorf("Total() after %d concurrent Accumulate(2) = %d, want %d", goroutines*each, got, want)
	}
	if got, want := s.Accumulated(), goroutines*each; got != want {
		t.Errorf("Accumulated() = %d, want %d", got, want)
	}
}
