package serviceconfig_test

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	rsc "github.com/resilience-go/grpc-resilience/serviceconfig"
)

// manyMethods returns a service config with n methodConfig entries, each
// naming one method of its own with a retry policy, and a default entry.
func manyMethods(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"methodConfig": [{"name": [{}], "timeout": "1s"}`)
	for i := range n {
		fmt.Fprintf(&b, `,{"name": [{"service": "pkg.Service%d", "method": "Method%d"}], "retryPolicy": {"maxAttempts": 3, "initialBackoff": "0.1s", "maxBackoff": "1s", "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]}}`, i%100, i)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// parseCost parses js once and returns what that allocated.
func parseCost(t *testing.T, js []byte) (cfg *rsc.Config, allocs, bytes uint64) {
	t.Helper()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cfg, err := rsc.Parse(js)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatalf("Parse(%d bytes) = %v", len(js), err)
	}
	return cfg, after.Mallocs - before.Mallocs, after.TotalAlloc - before.TotalAlloc
}

// TestParseManyMethods: a service config with 10^5 method entries (about
// 23 MB of JSON, as a hostile or generated config might be) parses, and
// its cost grows linearly: 10× the entries cost about 10× the allocations
// and bytes of 10^4, and the bytes allocated stay within a small multiple
// of the input's size. Time is measured by BenchmarkParseManyMethods, not
// asserted here; a quadratic step (such as a duplicate check by pairs)
// would show in neither the allocations nor here, so the duplicate check
// is by map, and the benchmark's figures are in the closing note.
func TestParseManyMethods(t *testing.T) {
	const n = 100_000
	small, big := manyMethods(n/10), manyMethods(n)
	_, allocsSmall, bytesSmall := parseCost(t, small)
	cfg, allocsBig, bytesBig := parseCost(t, big)
	t.Logf("10^4 entries: %d bytes of JSON, %d allocations, %d bytes allocated", len(small), allocsSmall, bytesSmall)
	t.Logf("10^5 entries: %d bytes of JSON, %d allocations, %d bytes allocated", len(big), allocsBig, bytesBig)

	if got := len(cfg.MethodConfigs); got != n+1 {
		t.Fatalf("Parse kept %d entries, want %d", got, n+1)
	}
	for _, tc := range []struct {
		method string
		retry  bool
	}{
		{"/pkg.Service0/Method0", true},
		{fmt.Sprintf("/pkg.Service%d/Method%d", (n-1)%100, n-1), true},
		{"/pkg.Service0/Method1", false}, // Method1 is Service1's: the default entry
	} {
		mc := cfg.MethodConfig(tc.method)
		if mc == nil || (mc.RetryPolicy != nil) != tc.retry {
			t.Errorf("MethodConfig(%q) = %+v, want retry policy %v", tc.method, mc, tc.retry)
		}
	}
	if r := float64(allocsBig) / float64(allocsSmall); r < 8 || r > 12 {
		t.Errorf("10× the entries took %.2f× the allocations (%d against %d), want about 10×", r, allocsBig, allocsSmall)
	}
	if r := float64(bytesBig) / float64(bytesSmall); r < 7 || r > 14 {
		t.Errorf("10× the entries allocated %.2f× the bytes (%d against %d), want about 10×", r, bytesBig, bytesSmall)
	}
	if limit := uint64(len(big)) * 100; bytesBig > limit {
		t.Errorf("parsing %d bytes of JSON allocated %d bytes, want at most 100× the input (%d)", len(big), bytesBig, limit)
	}
	// A duplicate at the very end is found.
	dup := append(bytes.TrimSuffix(big, []byte(`]}`)), []byte(`,{"name": [{"service": "pkg.Service0", "method": "Method0"}]}]}`)...)
	if _, err := rsc.Parse(dup); err == nil {
		t.Errorf("Parse(%d entries, the last a duplicate of the first) = nil error, want the duplicate named", n+2)
	} else {
		t.Logf("the duplicate: %v", err)
	}
}

// BenchmarkParseManyMethods measures Parse on 10^3 to 10^5 entries; its
// time per entry should not grow with the count.
func BenchmarkParseManyMethods(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		js := manyMethods(n)
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(js)))
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				if _, err := rsc.Parse(js); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N)/float64(n), "ns/entry")
		})
	}
}

// deepConfig returns a service config whose loadBalancingConfig nests
// depth arrays around an array of n numbers: about 2 MB for n = 300,000.
func deepConfig(depth, n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"loadBalancingConfig": [`)
	b.WriteString(strings.Repeat("[", depth))
	b.WriteString("[")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprint(&b, i%10)
	}
	b.WriteString("]")
	b.WriteString(strings.Repeat("]", depth))
	b.WriteString(`]}`)
	return b.Bytes()
}

// TestParseDeeplyNested: 9,000 levels of nesting (encoding/json allows
// 10,000) around 600 KB of numbers are read once, not once per level: Parse
// rejects the config, naming the field, in about the time of a flat config
// of its size (BenchmarkParseDeep has the figures; a scan that split every
// level would take seconds here).
func TestParseDeeplyNested(t *testing.T) {
	js := deepConfig(9000, 300_000)
	_, err := rsc.Parse(js)
	if err == nil || !strings.Contains(err.Error(), "loadBalancingConfig[0]") {
		t.Errorf("Parse(%d bytes nested 9000 deep) = %v, want an error naming loadBalancingConfig[0]", len(js), err)
	}
}

// BenchmarkParseDeep measures Parse on the deeply nested config of
// TestParseDeeplyNested, at three depths: the time should not grow with
// the depth.
func BenchmarkParseDeep(b *testing.B) {
	for _, depth := range []int{10, 1000, 9000} {
		js := deepConfig(depth, 300_000)
		b.Run(fmt.Sprintf("depth=%d", depth), func(b *testing.B) {
			b.SetBytes(int64(len(js)))
			for b.Loop() {
				rsc.Parse(js)
			}
		})
	}
}
