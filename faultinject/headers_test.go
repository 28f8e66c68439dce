package faultinject_test

import (
	"context"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	"github.com/resilience-go/grpc-resilience/faultinject"
)

// withHeaders returns ctx carrying the fault-control headers kv.
func withHeaders(ctx context.Context, kv ...string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, kv...)
}

// TestHeaderControlOffByDefault: without WithHeaderControl, fault headers
// change nothing and are not even read.
func TestHeaderControlOffByDefault(t *testing.T) {
	f := startFaulty(t, nil, nil)
	ctx := withHeaders(testContext(t),
		faultinject.HeaderAbortCode, "14", faultinject.HeaderDelay, "3600000",
		faultinject.HeaderAbortPercent, "abc")
	for _, k := range kinds {
		if o := k.call(ctx, f.srv.Client()); o.Code != codes.OK {
			t.Errorf("%s call with fault headers, no opt-in = %v, want OK", k.name, o.Code)
		}
	}
	if st := f.in.Stats(); st.Aborts != 0 || st.Delays != 0 || st.HeaderRejected != 0 {
		t.Errorf("Stats() = %+v, want no faults and no rejected headers", st)
	}
}

// TestHeaderControl: with the opt-in, good headers are obeyed on every RPC
// kind.
func TestHeaderControl(t *testing.T) {
	for _, c := range []struct {
		name    string
		headers []string
		want    codes.Code
		delays  uint64
	}{
		{"abort", []string{faultinject.HeaderAbortCode, "14"}, codes.Unavailable, 0},
		{"abort 100%", []string{faultinject.HeaderAbortCode, "9", faultinject.HeaderAbortPercent, "100"}, codes.FailedPrecondition, 0},
		{"abort 0%", []string{faultinject.HeaderAbortCode, "14", faultinject.HeaderAbortPercent, "0"}, codes.OK, 0},
		{"delay", []string{faultinject.HeaderDelay, "1"}, codes.OK, 1},
		{"delay 0ms", []string{faultinject.HeaderDelay, "0"}, codes.OK, 1},
		{"delay 0%", []string{faultinject.HeaderDelay, "1", faultinject.HeaderDelayPercent, "0"}, codes.OK, 0},
		{"both", []string{faultinject.HeaderDelay, "1", faultinject.HeaderAbortCode, "8"}, codes.ResourceExhausted, 1},
		{"percent alone", []string{faultinject.HeaderAbortPercent, "100"}, codes.OK, 0},
	} {
		for _, k := range kinds {
			t.Run(c.name+"/"+k.name, func(t *testing.T) {
				f := startFaulty(t, nil, []faultinject.Option{faultinject.WithHeaderControl(true)})
				if o := k.call(withHeaders(testContext(t), c.headers...), f.srv.Client()); o.Code != c.want {
					t.Errorf("call with %q = %v, want %v", c.headers, o.Code, c.want)
				}
				if st := f.in.Stats(); st.Delays != c.delays || st.HeaderRejected != 0 {
					t.Errorf("Stats() = %+v, want %d delays, no rejected headers", st, c.delays)
				}
			})
		}
	}
}

// TestHeaderControlRejects: malformed values are ignored and counted, one
// per bad value; the call runs normally and the server lives on.
func TestHeaderControlRejects(t *testing.T) {
	var ev events
	f := startFaulty(t, nil, []faultinject.Option{faultinject.WithHeaderControl(true), faultinject.WithObserver(ev.observe)})
	for i, headers := range [][]string{
		{faultinject.HeaderAbortCode, "abc"},
		{faultinject.HeaderAbortCode, "-1"},
		{faultinject.HeaderAbortCode, "99"},
		{faultinject.HeaderAbortCode, "0"},
		{faultinject.HeaderAbortCode, "+14"},
		{faultinject.HeaderAbortCode, "14", faultinject.HeaderAbortCode, "14"},
		{faultinject.HeaderAbortCode, "14", faultinject.HeaderAbortPercent, "abc"},
		{faultinject.HeaderAbortCode, "14", faultinject.HeaderAbortPercent, "-1"},
		{faultinject.HeaderAbortCode, "14", faultinject.HeaderAbortPercent, "150"},
		{faultinject.HeaderAbortCode, "14", faultinject.HeaderAbortPercent, "NaN"},
		{faultinject.HeaderDelay, "1000000000000"},
		{faultinject.HeaderDelay, "-5"},
		{faultinject.HeaderDelay, "soon"},
		{faultinject.HeaderDelay, "1.5"},
		{faultinject.HeaderDelay, "99999999999999999999999"},
		{faultinject.HeaderDelay, "10", faultinject.HeaderDelayPercent, "1e2"},
	} {
		if o := kinds[0].call(withHeaders(testContext(t), headers...), f.srv.Client()); o.Code != codes.OK {
			t.Errorf("GetFeature with %q = %v, want OK (header ignored)", headers, o.Code)
		}
		if st := f.in.Stats(); st.HeaderRejected != uint64(i+1) || st.Aborts != 0 || st.Delays != 0 {
			t.Errorf("after %q: Stats() = %+v, want %d rejected, no faults", headers, st, i+1)
		}
	}
	for _, e := range ev.all() {
		if e.Kind != faultinject.KindHeaderRejected || e.Detail == "" || e.Method != "/routeguide.RouteGuide/GetFeature" {
			t.Errorf("event %v, want header-rejected with a detail", e)
		}
	}
}

// TestHeaderControlAndRules: a rule's abort comes before a header's.
func TestHeaderControlAndRules(t *testing.T) {
	f := startFaulty(t, mustSpec(t, "internal"), []faultinject.Option{faultinject.WithHeaderControl(true)})
	ctx := withHeaders(testContext(t), faultinject.HeaderAbortCode, "14")
	if o := kinds[0].call(ctx, f.srv.Client()); o.Code != codes.Internal {
		t.Errorf("GetFeature with a rule and a header abort = %v, want Internal (the rule's)", o.Code)
	}
}
