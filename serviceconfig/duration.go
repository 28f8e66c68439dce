package serviceconfig

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// maxProtoSeconds is the largest number of seconds a google.protobuf.Duration
// may hold.
const maxProtoSeconds = 315_576_000_000

var (
	errNotDuration  = errors.New(`is not a duration like "0.1s"`)
	errTooPrecise   = errors.New(`is not a duration like "0.1s": more than 9 fractional digits`)
	errDurationSize = errors.New("is out of range: more than 315576000000s")
)

// parseDuration parses the proto3 JSON form of a duration: an optional sign,
// seconds with up to 9 fractional digits, and a trailing "s" ("0.1s", "1s",
// "1.5s", ".5s", "-1s"). It accepts what grpc-go and protojson both accept.
// Values beyond time.Duration's range (about 292 years) but within the proto
// range saturate, as grpc-go does.
func parseDuration(s string) (time.Duration, error) {
	body, ok := strings.CutSuffix(s, "s")
	if !ok || body == "" {
		return 0, errNotDuration
	}
	neg := false
	switch body[0] {
	case '-':
		neg = true
		body = body[1:]
	case '+':
		body = body[1:]
	}
	whole, frac, hasDot := strings.Cut(body, ".")
	if whole == "" && frac == "" || !allDigits(whole) || !allDigits(frac) {
		return 0, errNotDuration
	}
	if hasDot && len(frac) > 9 {
		return 0, errTooPrecise
	}
	var sec int64
	if whole != "" {
		var err error
		sec, err = strconv.ParseInt(whole, 10, 64)
		if err != nil || sec > maxProtoSeconds {
			return 0, errDurationSize
		}
	}
	var nanos int64
	if frac != "" {
		n, _ := strconv.ParseInt(frac, 10, 64) // at most 9 digits: cannot fail
		for range 9 - len(frac) {
			n *= 10
		}
		nanos = n
	}
	const maxSec = math.MaxInt64 / int64(time.Second)
	var d time.Duration
	if sec > maxSec || sec == maxSec && nanos > math.MaxInt64%int64(time.Second) {
		d = math.MaxInt64
	} else {
		d = time.Duration(sec)*time.Second + time.Duration(nanos)
	}
	if neg {
		d = -d
	}
	return d, nil
}

func allDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// formatDuration gives the proto3 JSON form of d with no trailing zeros:
// 100ms is "0.1s", 1s is "1s", 1ns is "0.000000001s".
func formatDuration(d time.Duration) string {
	var b []byte
	// Work with a non-positive value so that math.MinInt64 needs no special case.
	n := int64(d)
	if n < 0 {
		b = append(b, '-')
	} else {
		n = -n
	}
	sec, nanos := -(n / int64(time.Second)), -(n % int64(time.Second))
	b = strconv.AppendUint(b, uint64(sec), 10)
	if nanos != 0 {
		frac := strconv.AppendInt(nil, nanos+int64(time.Second), 10)[1:] // 9 digits, leading zeros kept
		b = append(b, '.')
		b = append(b, strings.TrimRight(string(frac), "0")...)
	}
	return string(append(b, 's'))
}
