package retry_test

import (
	"math"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/resilience-go/grpc-resilience/retry"
)

// Bits of FuzzParsePushback's mode argument.
const (
	pushbackValues   = 3      // mode&3 trailer values: none, [v1], [v1 v2], [v1 v2 v1]
	pushbackNoStatus = 1 << 2 // pass a nil *status.Status
	pushbackAddInfo  = 1 << 3 // append RetryInfo{seconds, nanos} to the status
	pushbackNilDelay = 1 << 4 // put a RetryInfo without a delay first
)

// maxProtoSeconds bounds a valid google.protobuf.Duration: 10,000 years.
const maxProtoSeconds = 315576000000

// FuzzParsePushback checks ParsePushback against its documented semantics,
// for a trailer of zero to three arbitrary grpc-retry-pushback-ms values and
// a status read from arbitrary google.rpc.Status bytes (so that any Any
// detail reaches the parser), optionally given a RetryInfo with an arbitrary
// delay:
//
//   - always Delay >= 0, Stop implies Present, and !Present gives the zero
//     Pushback;
//   - a single value of decimal digits n gives Delay n ms, saturating at the
//     largest Duration, and Value n;
//   - any other single value (empty, signed, spaced, non-digits) or two or
//     more values give Stop;
//   - a trailer value wins over the status, whatever it holds;
//   - without one, the first RetryInfo that has a delay decides: a valid
//     non-negative delay is waited for exactly (saturating), an invalid or
//     negative one gives Stop; no such RetryInfo means no advice.
func FuzzParsePushback(f *testing.F) {
	f.Add(uint8(1), "1000", "", []byte(nil), int64(0), int32(0))
	f.Add(uint8(2), "10", "20", []byte(nil), int64(0), int32(0))
	f.Add(uint8(1), "9223372036854775807", "", []byte(nil), int64(0), int32(0))
	f.Add(uint8(pushbackAddInfo), "", "", []byte(nil), int64(0), int32(250000000))
	f.Add(uint8(pushbackAddInfo|pushbackNilDelay), "", "", []byte(nil), int64(-1), int32(0))
	f.Add(uint8(1|pushbackAddInfo), "5", "", []byte(nil), int64(1), int32(0))
	f.Fuzz(func(t *testing.T, mode uint8, v1, v2 string, statusProto []byte, seconds int64, nanos int32) {
		var vals []string
		switch mode & pushbackValues {
		case 1:
			vals = []string{v1}
		case 2:
			vals = []string{v1, v2}
		case 3:
			vals = []string{v1, v2, v1}
		}
		var trailer metadata.MD
		if len(vals) > 0 {
			trailer = metadata.MD{retry.PushbackKey: vals}
		}
		st := fuzzStatus(t, mode, statusProto, seconds, nanos)

		got := retry.ParsePushback(trailer, st)

		if got.Delay < 0 {
			t.Errorf("ParsePushback(%q, %v) = %+v, want Delay >= 0", vals, st, got)
		}
		if got.Stop && !got.Present {
			t.Errorf("ParsePushback(%q, %v) = %+v, want Present whenever Stop", vals, st, got)
		}
		if !got.Present && got != (retry.Pushback{}) {
			t.Errorf("ParsePushback(%q, %v) = %+v, want the zero Pushback when not Present", vals, st, got)
		}

		if len(vals) > 0 {
			want := wantTrailerPushback(vals)
			if !samePushback(got, want, true) {
				t.Errorf("ParsePushback(%q, %v) = %+v, want %+v", vals, st, got, want)
			}
			// The trailer wins: the status makes no difference.
			if alone := retry.ParsePushback(trailer, nil); alone != got {
				t.Errorf("ParsePushback(%q, nil) = %+v, want %+v as with the status", vals, alone, got)
			}
			return
		}
		want := wantStatusPushback(st)
		if !samePushback(got, want, !want.Present) {
			t.Errorf("ParsePushback(nil, %v) = %+v, want %+v", st, got, want)
		}
		if want.Present && !(strings.HasPrefix(got.Value, "RetryInfo{") && strings.HasSuffix(got.Value, "}")) {
			t.Errorf("ParsePushback(nil, %v).Value = %q, want RetryInfo{...}", st, got.Value)
		}
	})
}

// fuzzStatus builds the status that FuzzParsePushback passes, as its mode
// asks: nil, or the status in statusProto (an empty UNAVAILABLE one if the
// bytes are no google.rpc.Status), with RetryInfo details added.
func fuzzStatus(t *testing.T, mode uint8, statusProto []byte, seconds int64, nanos int32) *status.Status {
	t.Helper()
	if mode&pushbackNoStatus != 0 {
		return nil
	}
	sp := new(spb.Status)
	if err := proto.Unmarshal(statusProto, sp); err != nil {
		sp = &spb.Status{Code: int32(codes.Unavailable), Message: "fuzz"}
	}
	add := func(m proto.Message) {
		a, err := anypb.New(m)
		if err != nil {
			t.Fatalf("anypb.New(%v) = %v, want nil error", m, err)
		}
		sp.Details = append(sp.Details, a)
	}
	if mode&pushbackNilDelay != 0 {
		details := sp.Details
		sp.Details = nil
		add(&errdetails.RetryInfo{})
		sp.Details = append(sp.Details, details...)
	}
	if mode&pushbackAddInfo != 0 {
		add(&errdetails.RetryInfo{RetryDelay: &durationpb.Duration{Seconds: seconds, Nanos: nanos}})
	}
	return status.FromProto(sp)
}

// wantTrailerPushback is the documented reading of a non-empty list of
// trailer values.
func wantTrailerPushback(vals []string) retry.Pushback {
	if len(vals) > 1 {
		quoted := make([]string, len(vals))
		for i, v := range vals {
			quoted[i] = strconv.Quote(v)
		}
		return retry.Pushback{Present: true, Stop: true, Value: strings.Join(quoted, ",")}
	}
	v := vals[0]
	if v == "" || strings.Trim(v, "0123456789") != "" {
		return retry.Pushback{Present: true, Stop: true, Value: v}
	}
	ms, _ := new(big.Int).SetString(v, 10) // digits only: cannot fail
	return retry.Pushback{Present: true, Delay: saturate(ms.Mul(ms, big.NewInt(int64(time.Millisecond)))), Value: v}
}

// wantStatusPushback is the documented reading of st's details when there
// is no trailer value. It leaves Value empty: the text form of a RetryInfo
// is protobuf's to choose, and deliberately unstable.
func wantStatusPushback(st *status.Status) retry.Pushback {
	for _, d := range st.Details() {
		ri, ok := d.(*errdetails.RetryInfo)
		if !ok || ri.GetRetryDelay() == nil {
			continue
		}
		s, n := ri.GetRetryDelay().GetSeconds(), ri.GetRetryDelay().GetNanos()
		valid := s >= -maxProtoSeconds && s <= maxProtoSeconds &&
			n > -1e9 && n < 1e9 && !(s > 0 && n < 0) && !(s < 0 && n > 0)
		if !valid || s < 0 || n < 0 {
			return retry.Pushback{Present: true, Stop: true}
		}
		ns := new(big.Int).Mul(big.NewInt(s), big.NewInt(int64(time.Second)))
		return retry.Pushback{Present: true, Delay: saturate(ns.Add(ns, big.NewInt(int64(n))))}
	}
	return retry.Pushback{}
}

// saturate converts a non-negative number of nanoseconds to a Duration,
// capped at the largest one.
func saturate(ns *big.Int) time.Duration {
	if !ns.IsInt64() {
		return math.MaxInt64
	}
	return time.Duration(ns.Int64())
}

// samePushback compares got with want: Present and Stop always, Delay when
// not Stop (it has no meaning then), and Value if asked.
func samePushback(got, want retry.Pushback, compareValue bool) bool {
	return got.Present == want.Present && got.Stop == want.Stop &&
		(want.Stop || got.Delay == want.Delay) &&
		(!compareValue || got.Value == want.Value)
}
