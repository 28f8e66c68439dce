package faultinject

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	rstatus "github.com/resilience-go/grpc-resilience/status"
)

// ParseSpec parses the compact text form of a list of rules, used by
// command-line flags. The form is a comma-separated list of rules; each rule
// is one fault, optionally scoped to a method and followed by options:
//
//	rule    = [ method ":" ] fault { "+" option }
//	method  = "/package.Service/Method" | "/package.Service/*" | "*"
//	fault   = CODE [ "=" SHARE ]          abort SHARE of calls (default 100%)
//	        | "first=" N ":" CODE         abort attempts 1..N of every call
//	        | "every=" K ":" CODE         abort calls K, 2K, 3K, ...
//	        | "delay=" DURATION [ "~" JITTER ] [ "@" SHARE ]
//	option  = "pushback=" DURATION        (aborts) trailer grpc-retry-pushback-ms
//	        | "after=" K                  (aborts) fail after K messages
//	        | "recv=" K                   (aborts) fail after K requests, uncommitted
//	        | "msg=" TEXT                 (aborts) status message, no "," or "+"
//
// CODE is a status code name in any case or its number ("unavailable",
// "UNAVAILABLE", "14"); SHARE is a percentage such as "30%" or "0.5%";
// DURATION is a Go duration such as "50ms". Examples:
//
//	unavailable=30%                       abort 30% of all calls with UNAVAILABLE
//	delay=50ms@10%                        delay 10% of calls by 50ms
//	delay=100ms~20ms                      delay every call by 80ms to 120ms
//	first=2:unavailable+pushback=10ms     fail attempts 1 and 2, ask for a 10ms wait
//	every=5:internal                      fail every 5th call with INTERNAL
//	/routeguide.RouteGuide/ListFeatures:unavailable+after=3
//	                                      fail every ListFeatures stream after 3 messages
//	/routeguide.RouteGuide/RecordRoute:first=1:unavailable+recv=2
//	                                      cut each RecordRoute's first attempt off after
//	                                      2 points, before any answer: a retry replays
//
// An empty or blank spec means no rules. A rule that is not valid UTF-8 is
// an error: the rule file form ([MarshalRules]), the admin service and a
// status message can hold only UTF-8 text. An error quotes the bad token and
// says what is wrong with it.
func ParseSpec(spec string) ([]Rule, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, nil
	}
	var rules []Rule
	for i, tok := range strings.Split(spec, ",") {
		if !utf8.ValidString(tok) {
			return nil, fmt.Errorf("faultinject: spec rule %d %q: not valid UTF-8", i+1, strings.TrimSpace(tok))
		}
		r, err := parseRule(strings.TrimSpace(tok))
		if err != nil {
			return nil, fmt.Errorf("faultinject: spec rule %d %q: %w", i+1, strings.TrimSpace(tok), err)
		}
		if err := r.validate(); err != nil {
			return nil, fmt.Errorf("faultinject: spec rule %d %q: %w", i+1, strings.TrimSpace(tok), err)
		}
		rules = append(rules, r)
	}
	return rules, nil
}

func parseRule(tok string) (Rule, error) {
	var r Rule
	if tok == "" {
		return r, fmt.Errorf("empty rule")
	}
	if strings.HasPrefix(tok, "/") || strings.HasPrefix(tok, "*:") {
		m, rest, ok := strings.Cut(tok, ":")
		if !ok {
			return r, fmt.Errorf("method %q is not followed by \":\" and a fault", m)
		}
		if err := validMethod(m); err != nil {
			return r, err
		}
		if m != "*" { // "*" and no method both mean every method
			r.Method = m
		}
		tok = rest
	}
	parts := strings.Split(tok, "+")
	fault, opts := parts[0], parts[1:]
	key, val, hasVal := strings.Cut(fault, "=")
	switch strings.ToLower(key) {
	case "delay":
		d, err := parseDelay(val)
		if err != nil {
			return r, err
		}
		if len(opts) > 0 {
			return r, fmt.Errorf("option %q: a delay takes no options", opts[0])
		}
		r.Delay = d
		return r, nil
	case "first", "every":
		n, code, ok := strings.Cut(val, ":")
		if !ok {
			return r, fmt.Errorf("%q: want %s=N:CODE", fault, key)
		}
		k, err := parseCount(n)
		if err != nil {
			return r, fmt.Errorf("%s count: %w", key, err)
		}
		c, err := rstatus.ParseCode(code)
		if err != nil {
			return r, err
		}
		r.Abort = &Abort{Code: c}
		if strings.EqualFold(key, "first") {
			r.Abort.First = k
		} else {
			r.Abort.Every = k
		}
	default:
		c, err := rstatus.ParseCode(key)
		if err != nil {
			return r, fmt.Errorf("fault %q: not a status code, \"delay\", \"first\" or \"every\"", key)
		}
		r.Abort = &Abort{Code: c, Percent: 100}
		if hasVal {
			p, err := parseShare(val)
			if err != nil {
				return r, err
			}
			r.Abort.Percent = p
		}
	}
	seen := map[string]bool{}
	for _, opt := range opts {
		k, v, ok := strings.Cut(opt, "=")
		k = strings.ToLower(k)
		if !ok {
			return r, fmt.Errorf("option %q: want KEY=VALUE", opt)
		}
		if seen[k] {
			return r, fmt.Errorf("option %q: %s given twice", opt, k)
		}
		seen[k] = true
		switch k {
		case "pushback":
			d, err := time.ParseDuration(v)
			if err != nil {
				return r, fmt.Errorf("option %q: bad duration %q", opt, v)
			}
			r.Abort.Pushback = &d
		case "after":
			n, err := parseCount(v)
			if err != nil {
				return r, fmt.Errorf("option %q: %w", opt, err)
			}
			r.Abort.AfterMessages = n
		case "recv":
			n, err := parseCount(v)
			if err != nil {
				return r, fmt.Errorf("option %q: %w", opt, err)
			}
			r.Abort.AfterRequests = n
		case "msg":
			if v = strings.TrimSpace(v); v == "" {
				return r, fmt.Errorf("option %q: empty message", opt)
			}
			r.Abort.Message = v
		default:
			return r, fmt.Errorf("option %q: unknown; want pushback, after, recv or msg", opt)
		}
	}
	return r, nil
}

// parseDelay parses DURATION [ "~" JITTER ] [ "@" SHARE ].
func parseDelay(v string) (*Delay, error) {
	d := &Delay{Percent: 100}
	if v == "" {
		return nil, fmt.Errorf("delay: no duration")
	}
	if before, share, ok := strings.Cut(v, "@"); ok {
		p, err := parseShare(share)
		if err != nil {
			return nil, err
		}
		d.Percent, v = p, before
	}
	if before, jitter, ok := strings.Cut(v, "~"); ok {
		j, err := time.ParseDuration(jitter)
		if err != nil {
			return nil, fmt.Errorf("bad jitter %q", jitter)
		}
		d.Jitter, v = j, before
	}
	dur, err := time.ParseDuration(v)
	if err != nil {
		return nil, fmt.Errorf("bad duration %q", v)
	}
	d.Duration = dur
	return d, nil
}

// parseShare parses a percentage such as "30%" or "0.5%".
func parseShare(s string) (float64, error) {
	num, ok := strings.CutSuffix(s, "%")
	if !ok {
		return 0, fmt.Errorf("share %q: want a percentage such as 30%%", s)
	}
	p, err := strconv.ParseFloat(num, 64)
	if err != nil || !isDecimal(num) {
		return 0, fmt.Errorf("share %q: not a number", s)
	}
	if p <= 0 || p > 100 {
		return 0, fmt.Errorf("share %q: not in (0%%, 100%%]", s)
	}
	return p, nil
}

// parseCount parses a positive decimal count.
func parseCount(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || strings.HasPrefix(s, "+") {
		return 0, fmt.Errorf("%q is not a whole number", s)
	}
	if n < 1 {
		return 0, fmt.Errorf("%q is not positive", s)
	}
	return n, nil
}

// FormatSpec returns the compact text form of rules, which ParseSpec reads
// back into the same faults. A rule with both an abort and a delay becomes
// two rules, its delay first: the same faults, drawn with different
// numbers. It returns an error for a rule the text form cannot hold (an
// invalid rule, or a message with "," or "+").
func FormatSpec(rules []Rule) (string, error) {
	var toks []string
	for i, r := range rules {
		if err := r.validate(); err != nil {
			return "", fmt.Errorf("faultinject: rule %d: %w", i, err)
		}
		prefix := ""
		if r.Method != "" && r.Method != "*" {
			prefix = r.Method + ":"
		}
		if d := r.Delay; d != nil {
			t := prefix + "delay=" + d.Duration.String()
			if d.Jitter != 0 {
				t += "~" + d.Jitter.String()
			}
			if d.Percent != 100 {
				t += "@" + formatShare(d.Percent)
			}
			toks = append(toks, t)
		}
		if a := r.Abort; a != nil {
			name := strings.ToLower(rstatus.Name(a.Code))
			var t string
			switch {
			case a.First > 0:
				t = fmt.Sprintf("first=%d:%s", a.First, name)
			case a.Every > 0:
				t = fmt.Sprintf("every=%d:%s", a.Every, name)
			case a.Percent == 100:
				t = name
			default:
				t = name + "=" + formatShare(a.Percent)
			}
			if a.Pushback != nil {
				t += "+pushback=" + a.Pushback.String()
			}
			if a.AfterMessages > 0 {
				t += fmt.Sprintf("+after=%d", a.AfterMessages)
			}
			if a.AfterRequests > 0 {
				t += fmt.Sprintf("+recv=%d", a.AfterRequests)
			}
			if a.Message != "" {
				if strings.ContainsAny(a.Message, ",+") || strings.TrimSpace(a.Message) != a.Message {
					return "", fmt.Errorf("faultinject: rule %d: message %q cannot be written in the text form", i, a.Message)
				}
				t += "+msg=" + a.Message
			}
			toks = append(toks, prefix+t)
		}
	}
	return strings.Join(toks, ","), nil
}

func formatShare(p float64) string {
	return strconv.FormatFloat(p, 'f', -1, 64) + "%"
}

// isDecimal reports whether s is a plain decimal number: digits with at
// most one dot, no sign, exponent, hex form, underscore, Inf or NaN.
func isDecimal(s string) bool {
	digits, dots := 0, 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '.':
			dots++
		default:
			return false
		}
	}
	return digits > 0 && dots <= 1
}
