package faultinject

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ConnFaults says which faults a [Listener] injects into the connections it
// accepts. Shares are percentages in [0, 100]. Each share is drawn on its own
// for every connection, from the Listener's seeded source keyed on the
// connection's sequence number (1-based, in accept order), so a seeded
// Listener picks the same connections run after run, and changing one share
// never changes which connections another share picks.
//
// The faults are tried in field order and the first of Refuse and Reset that
// hits ends the connection, so with both set the share of connections reset
// is Reset × (100 − Refuse) / 100. Delay and Cut can both hit one
// connection.
//
// The zero value injects nothing.
type ConnFaults struct {
	// Refuse is the share of connections closed as soon as they are
	// accepted, before a byte is read or written. The server never sees
	// them; a gRPC client sees UNAVAILABLE.
	Refuse float64
	// Reset is the share of connections reset as soon as they are
	// accepted: the Listener sets SO_LINGER to 0 and closes them, so the
	// peer gets a TCP RST rather than a FIN. A connection that is not a
	// TCP connection is simply closed. A gRPC client sees UNAVAILABLE.
	Reset float64
	// Delay is how long a delayed connection holds its first bytes: its
	// first Read and its first Write both wait until Delay after the
	// connection was accepted.
	Delay time.Duration
	// DelayPercent is the share of connections delayed. It needs a
	// positive Delay.
	DelayPercent float64
	// CutAfter is how many bytes, read and written by the server together,
	// a cut connection carries before the Listener closes it. A Write that
	// would go past it writes only up to it; a Read returns only the bytes
	// up to it.
	CutAfter int64
	// CutPercent is the share of connections cut. It needs a positive
	// CutAfter.
	CutPercent float64
}

// Validate reports the first field of f that is out of range, naming the
// field and its value: a share outside [0, 100] (NaN included), a negative
// Delay or CutAfter, or a share set for a Delay or CutAfter of zero.
func (f ConnFaults) Validate() error {
	shares := []struct {
		name string
		v    float64
	}{
		{"Refuse", f.Refuse},
		{"Reset", f.Reset},
		{"DelayPercent", f.DelayPercent},
		{"CutPercent", f.CutPercent},
	}
	for _, s := range shares {
		if !connShareOK(s.v) {
			return fmt.Errorf("faultinject: ConnFaults.%s: %v is not in [0, 100]", s.name, s.v)
		}
	}
	switch {
	case f.Delay < 0:
		return fmt.Errorf("faultinject: ConnFaults.Delay: %v is negative", f.Delay)
	case f.CutAfter < 0:
		return fmt.Errorf("faultinject: ConnFaults.CutAfter: %d is negative", f.CutAfter)
	case f.DelayPercent > 0 && f.Delay == 0:
		return fmt.Errorf("faultinject: ConnFaults.DelayPercent: %v needs a positive Delay, have 0", f.DelayPercent)
	case f.CutPercent > 0 && f.CutAfter == 0:
		return fmt.Errorf("faultinject: ConnFaults.CutPercent: %v needs a positive CutAfter, have 0", f.CutPercent)
	}
	return nil
}

// connShareOK reports whether p is a share in [0, 100]; NaN is not.
func connShareOK(p float64) bool { return p >= 0 && p <= 100 }

// String returns f in the compact form [ParseConnSpec] reads, such as
// "refuse=10%,delay=100ms@20%,cut=4096". Faults that are off are left out,
// and a share of 100% is left out of a delay or cut token; the zero value
// gives "". For a valid f, ParseConnSpec(f.String()) returns f.
func (f ConnFaults) String() string {
	var tokens []string
	if f.Refuse != 0 {
		tokens = append(tokens, "refuse="+formatConnPercent(f.Refuse))
	}
	if f.Reset != 0 {
		tokens = append(tokens, "reset="+formatConnPercent(f.Reset))
	}
	if f.Delay != 0 || f.DelayPercent != 0 {
		tokens = append(tokens, "delay="+f.Delay.String()+connShareSuffix(f.DelayPercent))
	}
	if f.CutAfter != 0 || f.CutPercent != 0 {
		tokens = append(tokens, "cut="+strconv.FormatInt(f.CutAfter, 10)+connShareSuffix(f.CutPercent))
	}
	return strings.Join(tokens, ",")
}

func formatConnPercent(p float64) string { return strconv.FormatFloat(p, 'g', -1, 64) + "%" }

// connShareSuffix is the "@share" part of a delay or cut token; 100% is the
// default and goes unsaid.
func connShareSuffix(p float64) string {
	if p == 100 {
		return ""
	}
	return "@" + formatConnPercent(p)
}

// ParseConnSpec reads the compact form of [ConnFaults] used by flags: tokens
// separated by commas, each one of
//
//	refuse=P%          Refuse = P
//	reset=P%           Reset = P
//	delay=D@P%         Delay = D (a Go duration such as 100ms), DelayPercent = P
//	delay=D            the same with DelayPercent = 100
//	cut=N@P%           CutAfter = N bytes, CutPercent = P
//	cut=N              the same with CutPercent = 100
//
// Spaces around a token are ignored. The empty string (or one of only
// spaces) means no faults. Each kind of token may appear once. The error for
// a bad spec quotes the bad token, gives its position from 1, and says what
// is wrong with it, as in
//
//	faultinject: conn spec token 2 "delay=abc@5%": bad duration "abc"
func ParseConnSpec(s string) (ConnFaults, error) {
	var f ConnFaults
	if strings.TrimSpace(s) == "" {
		return f, nil
	}
	seen := make(map[string]int) // key -> token number
	for i, raw := range strings.Split(s, ",") {
		n := i + 1
		tok := strings.TrimSpace(raw)
		fail := func(format string, args ...any) (ConnFaults, error) {
			return ConnFaults{}, fmt.Errorf("faultinject: conn spec token %d %q: %s", n, tok, fmt.Sprintf(format, args...))
		}
		if tok == "" {
			return fail("empty token")
		}
		key, val, ok := strings.Cut(tok, "=")
		if !ok {
			return fail("want key=value, such as refuse=10%%")
		}
		switch key {
		case "refuse", "reset", "delay", "cut":
		default:
			return fail("unknown key %q, want refuse, reset, delay or cut", key)
		}
		if prev, dup := seen[key]; dup {
			return fail("%s already given in token %d", key, prev)
		}
		seen[key] = n
		var err error
		switch key {
		case "refuse":
			f.Refuse, err = parseConnPercent(val)
		case "reset":
			f.Reset, err = parseConnPercent(val)
		case "delay":
			f.Delay, f.DelayPercent, err = parseConnDelay(val)
		case "cut":
			f.CutAfter, f.CutPercent, err = parseConnCut(val)
		}
		if err != nil {
			return fail("%v", err)
		}
	}
	return f, nil
}

// parseConnPercent reads "P%" with P in [0, 100].
func parseConnPercent(s string) (float64, error) {
	num, ok := strings.CutSuffix(s, "%")
	if !ok {
		return 0, fmt.Errorf("bad percent %q: want a number followed by %%, such as 10%%", s)
	}
	p, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("bad percent %q: %q is not a number", s, num)
	}
	if !connShareOK(p) {
		return 0, fmt.Errorf("percent %q is not in [0, 100]", s)
	}
	return p, nil
}

// parseConnShared splits "X@P%" into X and P, and "X" into X and 100.
func parseConnShared(s string) (string, float64, error) {
	x, share, ok := strings.Cut(s, "@")
	if !ok {
		return x, 100, nil
	}
	p, err := parseConnPercent(share)
	return x, p, err
}

func parseConnDelay(s string) (time.Duration, float64, error) {
	ds, p, err := parseConnShared(s)
	if err != nil {
		return 0, 0, err
	}
	d, err := time.ParseDuration(ds)
	if err != nil {
		return 0, 0, fmt.Errorf("bad duration %q", ds)
	}
	if d <= 0 {
		return 0, 0, fmt.Errorf("duration %q is not positive", ds)
	}
	return d, p, nil
}

func parseConnCut(s string) (int64, float64, error) {
	ns, p, err := parseConnShared(s)
	if err != nil {
		return 0, 0, err
	}
	n, err := strconv.ParseInt(ns, 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("bad byte count %q", ns)
	}
	if n <= 0 {
		return 0, 0, fmt.Errorf("byte count %q is not positive", ns)
	}
	return n, p, nil
}
