package retry

import (
	"math"
	"strconv"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// PushbackKey is the trailer in which a server tells a client when to retry,
// in milliseconds (gRFC A6).
const PushbackKey = "grpc-retry-pushback-ms"

// Pushback is a server's advice on retrying, read by [ParsePushback].
type Pushback struct {
	// Present reports whether the server gave any advice.
	Present bool
	// Stop reports that the server said not to retry: a negative, unparseable
	// or repeated pushback value, or an invalid RetryInfo delay.
	Stop bool
	// Delay is how long to wait before the retry when Present and not Stop.
	Delay time.Duration
	// Value is the raw advice as received, for errors and logs.
	Value string
}

// ParsePushback reads a server's pushback from the trailer of a failed
// attempt and, when the trailer has none, from a google.rpc.RetryInfo detail
// of its status. A single non-negative decimal integer means "retry after
// exactly that many ms"; a negative or unparseable value, or more than one
// value, means "do not retry". A RetryInfo with a valid non-negative delay
// means the same as that many ms; a negative or invalid one means stop.
// Delays too large for a Duration saturate; the caller's deadline bounds them.
func ParsePushback(trailer metadata.MD, st *status.Status) Pushback {
	if vals := trailer.Get(PushbackKey); len(vals) > 0 {
		if len(vals) > 1 {
			return Pushback{Present: true, Stop: true, Value: joinValues(vals)}
		}
		ms, ok := parseMillis(vals[0])
		if !ok {
			return Pushback{Present: true, Stop: true, Value: vals[0]}
		}
		return Pushback{Present: true, Delay: ms, Value: vals[0]}
	}
	if st == nil {
		return Pushback{}
	}
	for _, d := range st.Details() {
		ri, ok := d.(*errdetails.RetryInfo)
		if !ok || ri.GetRetryDelay() == nil {
			continue
		}
		rd := ri.GetRetryDelay()
		value := "RetryInfo{" + rd.String() + "}"
		if err := rd.CheckValid(); err != nil || rd.GetSeconds() < 0 || rd.GetNanos() < 0 {
			return Pushback{Present: true, Stop: true, Value: value}
		}
		return Pushback{Present: true, Delay: rd.AsDuration(), Value: value}
	}
	return Pushback{}
}

// parseMillis parses a non-negative decimal number of milliseconds: digits
// only, no sign, no space.
func parseMillis(s string) (time.Duration, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > uint64(math.MaxInt64/int64(time.Millisecond)) {
		// Out of range for a Duration, but a valid request to wait: saturate.
		return math.MaxInt64, true
	}
	return time.Duration(n) * time.Millisecond, true
}

func joinValues(vals []string) string {
	quoted := make([]string, len(vals))
	for i, v := range vals {
		quoted[i] = strconv.Quote(v)
	}
	return strings.Join(quoted, ",")
}
