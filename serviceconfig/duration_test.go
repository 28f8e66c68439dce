package serviceconfig

import (
	"math"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr error
	}{
		{"0.1s", 100 * time.Millisecond, nil},
		{".1s", 100 * time.Millisecond, nil},
		{"1s", time.Second, nil},
		{"1.s", time.Second, nil},
		{"1.5s", 1500 * time.Millisecond, nil},
		{"+1.5s", 1500 * time.Millisecond, nil},
		{"-1.5s", -1500 * time.Millisecond, nil},
		{"-.5s", -500 * time.Millisecond, nil},
		{"0s", 0, nil},
		{"00.010s", 10 * time.Millisecond, nil},
		{"0.000000001s", time.Nanosecond, nil},
		{"123456.789012345s", 123456789012345 * time.Nanosecond, nil},
		{"9223372036.854775807s", math.MaxInt64, nil},
		{"9223372036.854775808s", math.MaxInt64, nil},
		{"315576000000s", math.MaxInt64, nil},
		{"-315576000000s", -math.MaxInt64, nil},
		{"315576000001s", 0, errDurationSize},
		{"99999999999999999999s", 0, errDurationSize},
		{"0.0000000001s", 0, errTooPrecise},
		{"", 0, errNotDuration},
		{"s", 0, errNotDuration},
		{"1", 0, errNotDuration},
		{"1S", 0, errNotDuration},
		{"1ms", 0, errNotDuration},
		{"1m", 0, errNotDuration},
		{"-s", 0, errNotDuration},
		{".s", 0, errNotDuration},
		{"--1s", 0, errNotDuration},
		{"+-1s", 0, errNotDuration},
		{"1.2.3s", 0, errNotDuration},
		{" 1s", 0, errNotDuration},
		{"1 s", 0, errNotDuration},
		{"1e3s", 0, errNotDuration},
		{"0x10s", 0, errNotDuration},
		{"1_000s", 0, errNotDuration},
	}
	for _, tc := range tests {
		got, err := parseDuration(tc.in)
		if got != tc.want || err != tc.wantErr {
			t.Errorf("parseDuration(%q) = %v, %v; want %v, %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{100 * time.Millisecond, "0.1s"},
		{time.Second, "1s"},
		{1500 * time.Millisecond, "1.5s"},
		{time.Nanosecond, "0.000000001s"},
		{1234567 * time.Microsecond, "1.234567s"},
		{-time.Second, "-1s"},
		{-100 * time.Millisecond, "-0.1s"},
		{time.Hour, "3600s"},
		{math.MaxInt64, "9223372036.854775807s"},
		{math.MinInt64, "-9223372036.854775808s"},
	}
	for _, tc := range tests {
		if got := formatDuration(tc.in); got != tc.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tc.in, got, tc.want)
		}
		// What we write, we read back; MinInt64 is out of parse's range
		// only because parsing saturates symmetrically.
		if tc.in == math.MinInt64 {
			continue
		}
		if back, err := parseDuration(tc.want); back != tc.in || err != nil {
			t.Errorf("parseDuration(%q) = %v, %v; want %v, nil", tc.want, back, err, tc.in)
		}
	}
}

func TestTruncate3(t *testing.T) {
	tests := []struct{ in, want float64 }{
		{0.1239, 0.123},
		{0.1, 0.1},
		{0.123, 0.123},
		{1.0059, 1.005},
		{1.005, 1.005},
		{0.0009, 0},
		{2, 2},
		{1e-10, 0},
		{12345.6789, 12345.678},
	}
	for _, tc := range tests {
		if got := truncate3(tc.in); got != tc.want {
			t.Errorf("truncate3(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestLineCol(t *testing.T) {
	data := []byte("ab\ncd\n\nef")
	tests := []struct{ pos, line, col int }{
		{0, 1, 1}, {1, 1, 2}, {2, 1, 3}, {3, 2, 1}, {4, 2, 2}, {6, 3, 1}, {7, 4, 1}, {8, 4, 2}, {9, 4, 3}, {-1, 1, 1}, {100, 4, 3},
	}
	for _, tc := range tests {
		if line, col := lineCol(data, tc.pos); line != tc.line || col != tc.col {
			t.Errorf("lineCol(%q, %d) = %d, %d; want %d, %d", data, tc.pos, line, col, tc.line, tc.col)
		}
	}
}
