package faultinject_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/grpc/codes"

	"github.com/resilience-go/grpc-resilience/faultinject"
)

func dur(d time.Duration) *time.Duration { return &d }

func TestParseSpec(t *testing.T) {
	for _, c := range []struct {
		spec string
		want []faultinject.Rule
	}{
		{"", nil},
		{"  ", nil},
		{"unavailable=30%", []faultinject.Rule{{Abort: &faultinject.Abort{Code: codes.Unavailable, Percent: 30}}}},
		{"UNAVAILABLE", []faultinject.Rule{{Abort: &faultinject.Abort{Code: codes.Unavailable, Percent: 100}}}},
		{"14=0.5%", []faultinject.Rule{{Abort: &faultinject.Abort{Code: codes.Unavailable, Percent: 0.5}}}},
		{"14=0.00005%", []faultinject.Rule{{Abort: &faultinject.Abort{Code: codes.Unavailable, Percent: 0.00005}}}},
		{"DeadlineExceeded=100%", []faultinject.Rule{{Abort: &faultinject.Abort{Code: codes.DeadlineExceeded, Percent: 100}}}},
		{"delay=50ms@10%", []faultinject.Rule{{Delay: &faultinject.Delay{Duration: 50 * time.Millisecond, Percent: 10}}}},
		{"delay=100ms~20ms", []faultinject.Rule{{Delay: &faultinject.Delay{Duration: 100 * time.Millisecond, Jitter: 20 * time.Millisecond, Percent: 100}}}},
		{"first=2:unavailable+pushback=10ms", []faultinject.Rule{{Abort: &faultinject.Abort{Code: codes.Unavailable, First: 2, Pushback: dur(10 * time.Millisecond)}}}},
		{"every=5:internal", []faultinject.Rule{{Abort: &faultinject.Abort{Code: codes.Internal, Every: 5}}}},
		{"/routeguide.RouteGuide/ListFeatures:unavailable+after=3+msg=cut short",
			[]faultinject.Rule{{Method: "/routeguide.RouteGuide/ListFeatures", Abort: &faultinject.Abort{Code: codes.Unavailable, Percent: 100, AfterMessages: 3, Message: "cut short"}}}},
		{"/routeguide.RouteGuide/RecordRoute:first=1:unavailable+recv=2",
			[]faultinject.Rule{{Method: "/routeguide.RouteGuide/RecordRoute", Abort: &faultinject.Abort{Code: codes.Unavailable, First: 1, AfterRequests: 2}}}},
		{"/routeguide.RouteGuide/*:delay=1s, *:aborted=1%", []faultinject.Rule{
			{Method: "/routeguide.RouteGuide/*", Delay: &faultinject.Delay{Duration: time.Second, Percent: 100}},
			{Abort: &faultinject.Abort{Code: codes.Aborted, Percent: 1}},
		}},
		{"unavailable=30%,delay=50ms@10%,first=2:unavailable,every=5:internal", []faultinject.Rule{
			{Abort: &faultinject.Abort{Code: codes.Unavailable, Percent: 30}},
			{Delay: &faultinject.Delay{Duration: 50 * time.Millisecond, Percent: 10}},
			{Abort: &faultinject.Abort{Code: codes.Unavailable, First: 2}},
			{Abort: &faultinject.Abort{Code: codes.Internal, Every: 5}},
		}},
	} {
		got, err := faultinject.ParseSpec(c.spec)
		if err != nil {
			t.Errorf("ParseSpec(%q) = %v, want no error", c.spec, err)
			continue
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("ParseSpec(%q) (-want +got):\n%s", c.spec, diff)
		}
		// The text form reads back into the same rules.
		text, err := faultinject.FormatSpec(got)
		if err != nil {
			t.Errorf("FormatSpec(ParseSpec(%q)) = %v", c.spec, err)
			continue
		}
		again, err := faultinject.ParseSpec(text)
		if err != nil {
			t.Errorf("ParseSpec(FormatSpec(ParseSpec(%q))) = ParseSpec(%q) = %v", c.spec, text, err)
			continue
		}
		if diff := cmp.Diff(got, again); diff != "" {
			t.Errorf("ParseSpec(%q) after FormatSpec (-first +again):\n%s", text, diff)
		}
	}
}

// TestParseSpecErrors: a bad spec names the rule, quotes the bad token and
// never yields rules.
func TestParseSpecErrors(t *testing.T) {
	for _, c := range []struct {
		spec  string
		token string // the text the error must quote
	}{
		{"unavailable=30", `"30"`},
		{"unavailable=30%,delay=abc@5%", `"abc"`},
		{"unavailable=130%", `"130%"`},
		{"unavailable=0%", `"0%"`},
		{"unavailable=-5%", `"-5%"`},
		{"unavailable=NaN%", `"NaN%"`},
		{"unavailable=1e1%", `"1e1%"`},
		{"bogus=5%", `"bogus"`},
		{"ok", `"ok"`},
		{"99=5%", `"99"`},
		{"delay=", `"delay="`},
		{"delay=-5ms", `"delay=-5ms"`},
		{"delay=0s", `"delay=0s"`},
		{"delay=5ms~x", `"x"`},
		{"delay=5ms@", `""`},
		{"delay=5ms+pushback=1s", `"pushback=1s"`},
		{"first=0:unavailable", `"0"`},
		{"first=two:unavailable", `"two"`},
		{"first=2", `"first=2"`},
		{"every=-1:internal", `"-1"`},
		{"every=3:nope", `"nope"`},
		{"unavailable+pushback=soon", `"soon"`},
		{"unavailable+pushback=1.5ms", `"unavailable+pushback=1.5ms"`},
		{"unavailable+after=0", `"after=0"`},
		{"unavailable+after=1+after=2", `"after=2"`},
		{"unavailable+recv=0", `"recv=0"`},
		{"unavailable+after=1+recv=1", `afterMessages 1 and afterRequests 1: set only one`},
		{"unavailable+color=red", `"color=red"`},
		{"unavailable+msg=", `"msg="`},
		{"unavailable,,internal", `rule 2 ""`},
		{"/routeguide.RouteGuide:unavailable", `"/routeguide.RouteGuide"`},
		{"/routeguide.RouteGuide/Get*:unavailable", `"/routeguide.RouteGuide/Get*"`},
		{"/routeguide.RouteGuide/GetFeature", `"/routeguide.RouteGuide/GetFeature"`},
		{"/a.B/C+D:internal", `"/a.B/C+D"`},
	} {
		rules, err := faultinject.ParseSpec(c.spec)
		if err == nil {
			t.Errorf("ParseSpec(%q) = %+v, want an error", c.spec, rules)
			continue
		}
		if rules != nil {
			t.Errorf("ParseSpec(%q) returned rules with its error", c.spec)
		}
		if !strings.Contains(err.Error(), c.token) {
			t.Errorf("ParseSpec(%q) = %q, want the error to quote %s", c.spec, err, c.token)
		}
	}
}

func TestRuleValidate(t *testing.T) {
	for _, c := range []struct {
		name  string
		rule  faultinject.Rule
		field string // named in the error; "" for a valid rule
	}{
		{"abort", faultinject.Rule{Abort: &faultinject.Abort{Code: codes.Unavailable, Percent: 5}}, ""},
		{"both", faultinject.Rule{Method: "/a.B/*", Abort: &faultinject.Abort{Code: codes.Unavailable, Every: 3},
			Delay: &faultinject.Delay{Duration: time.Millisecond, Percent: 100}}, ""},
		{"jitter only", faultinject.Rule{Delay: &faultinject.Delay{Jitter: time.Millisecond, Percent: 1}}, ""},
		{"empty", faultinject.Rule{}, "neither abort nor delay"},
		{"bad method", faultinject.Rule{Method: "a.B/C", Abort: &faultinject.Abort{Code: codes.Unavailable, Percent: 5}}, "method"},
		{"colon in method", faultinject.Rule{Method: "/a.B/C:D", Abort: &faultinject.Abort{Code: codes.Unavailable, Percent: 5}}, "method"},
		{"OK code", faultinject.Rule{Abort: &faultinject.Abort{Code: codes.OK, Percent: 5}}, "abort.code"},
		{"code 17", faultinject.Rule{Abort: &faultinject.Abort{Code: 17, Percent: 5}}, "abort.code"},
		{"no trigger", faultinject.Rule{Abort: &faultinject.Abort{Code: codes.Unavailable}}, "no trigger"},
		{"two triggers", faultinject.Rule{Abort: &faultinject.Abort{Code: codes.Unavailable, Percent: 5, First: 1}}, "set only one"},
		{"percent over", faultinject.Rule{Abort: &faultinject.Abort{Code: codes.Unavailable, Percent: 101}}, "abort.percent"},
		{"negative first", faultinject.Rule{Abort: &faultinject.Abort{Code: codes.Unavailable, First: -1}}, "abort.first"},
		{"negative every", faultinject.Rule{Abort: &faultinject.Abort{Code: codes.Unavailable, Every: -1}}, "abort.every"},
		{"negative after", faultinject.Rule{Abort: &faultinject.Abort{Code: codes.Unavailable, Percent: 1, AfterMessages: -1}}, "abort.afterMessages"},
		{"sub-ms pushback", faultinject.Rule{Abort: &faultinject.Abort{Code: codes.Unavailable, Percent: 1, Pushback: dur(time.Microsecond)}}, "abort.pushback"},
		{"negative delay", faultinject.Rule{Delay: &faultinject.Delay{Duration: -1, Percent: 1}}, "delay.duration"},
		{"zero delay", faultinject.Rule{Delay: &faultinject.Delay{Percent: 1}}, "delay.duration"},
		{"negative jitter", faultinject.Rule{Delay: &faultinject.Delay{Duration: 1, Jitter: -1, Percent: 1}}, "delay.jitter"},
		{"zero percent delay", faultinject.Rule{Delay: &faultinject.Delay{Duration: 1}}, "delay.percent"},
	} {
		err := c.rule.Validate()
		switch {
		case c.field == "" && err != nil:
			t.Errorf("%s: Validate() = %v, want nil", c.name, err)
		case c.field != "" && (err == nil || !strings.Contains(err.Error(), c.field)):
			t.Errorf("%s: Validate() = %v, want an error naming %s", c.name, err, c.field)
		}
		if _, newErr := faultinject.New([]faultinject.Rule{c.rule}); (newErr == nil) != (err == nil) {
			t.Errorf("%s: New() = %v but Validate() = %v", c.name, newErr, err)
		}
	}
	if _, err := faultinject.New(nil, faultinject.WithMaxActiveFaults(-1)); err == nil || !strings.Contains(err.Error(), "WithMaxActiveFaults") {
		t.Errorf("New(nil, WithMaxActiveFaults(-1)) = %v, want an error naming the option", err)
	}
}

func TestFormatSpecSplitsAndRefuses(t *testing.T) {
	both := []faultinject.Rule{{Method: "/a.B/C", Abort: &faultinject.Abort{Code: codes.Internal, Percent: 2.5},
		Delay: &faultinject.Delay{Duration: time.Second, Percent: 3}}}
	if got, err := faultinject.FormatSpec(both); err != nil || got != "/a.B/C:delay=1s@3%,/a.B/C:internal=2.5%" {
		t.Errorf("FormatSpec(abort and delay) = %q, %v; want %q", got, err, "/a.B/C:delay=1s@3%,/a.B/C:internal=2.5%")
	}
	comma := []faultinject.Rule{{Abort: &faultinject.Abort{Code: codes.Internal, Percent: 1, Message: "a, b"}}}
	if got, err := faultinject.FormatSpec(comma); err == nil {
		t.Errorf("FormatSpec(message with a comma) = %q, want an error", got)
	}
	if got, err := faultinject.FormatSpec([]faultinject.Rule{{}}); err == nil {
		t.Errorf("FormatSpec(invalid rule) = %q, want an error", got)
	}
}

func TestParseRules(t *testing.T) {
	file := `{"rules": [
	  {"method": "/routeguide.RouteGuide/*",
	   "abort": {"code": "UNAVAILABLE", "percent": 30, "pushback": "100ms", "message": "chaos"},
	   "delay": {"duration": "50ms", "jitter": "10ms", "percent": 10}},
	  {"abort": {"code": "internal", "every": 5}},
	  {"abort": {"code": 8, "afterMessages": 2}},
	  {"delay": {"duration": "1s"}}
	]}`
	want := []faultinject.Rule{
		{Method: "/routeguide.RouteGuide/*",
			Abort: &faultinject.Abort{Code: codes.Unavailable, Percent: 30, Pushback: dur(100 * time.Millisecond), Message: "chaos"},
			Delay: &faultinject.Delay{Duration: 50 * time.Millisecond, Jitter: 10 * time.Millisecond, Percent: 10}},
		{Abort: &faultinject.Abort{Code: codes.Internal, Every: 5}},
		{Abort: &faultinject.Abort{Code: codes.ResourceExhausted, Percent: 100, AfterMessages: 2}},
		{Delay: &faultinject.Delay{Duration: time.Second, Percent: 100}},
	}
	got, err := faultinject.ParseRules([]byte(file))
	if err != nil {
		t.Fatalf("ParseRules = %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseRules (-want +got):\n%s", diff)
	}
	data, err := faultinject.MarshalRules(got)
	if err != nil {
		t.Fatalf("MarshalRules = %v", err)
	}
	again, err := faultinject.ParseRules(data)
	if err != nil {
		t.Fatalf("ParseRules(MarshalRules(...)) = %v\n%s", err, data)
	}
	if diff := cmp.Diff(got, again); diff != "" {
		t.Errorf("ParseRules after MarshalRules (-first +again):\n%s", diff)
	}
	list, err := faultinject.ParseRules([]byte(`[{"abort": {"code": "UNAVAILABLE", "first": 1}}]`))
	if err != nil || len(list) != 1 || list[0].Abort.First != 1 {
		t.Errorf("ParseRules(bare list) = %+v, %v", list, err)
	}
}

func TestParseRulesErrors(t *testing.T) {
	for _, c := range []struct{ file, want string }{
		{`{"rules": [{"abort": {"code": "NOPE"}}]}`, `rules[0]: abort.code`},
		{`{"rules": [{"abort": {}}]}`, `rules[0]: abort.code: missing`},
		{`{"rules": [{"abort": {"code": 99}}]}`, `"99"`},
		{`{"rules": [{"delay": {"duration": "1s"}}, {"delay": {"duration": "soon"}}]}`, `rules[1]: delay.duration: bad duration "soon"`},
		{`{"rules": [{"delay": {"duration": "1s", "jitter": "x"}}]}`, `delay.jitter`},
		{`{"rules": [{"abort": {"code": 14, "pushback": "x"}}]}`, `abort.pushback`},
		{`{"rules": [{"abort": {"code": 14, "percent": 120}}]}`, `abort.percent: 120`},
		{`{"rules": [{"abort": {"code": 14, "percent": 5, "every": 2}}]}`, `set only one`},
		{`{"rules": [{"abort": {"code": 14}, "colour": 1}]}`, `rules[0].colour: unknown field`},
		{`{"rules": [{"ABORT": {"code": 14}}]}`, `rules[0].ABORT: unknown field`},
		{`{"rules": [{"abort": {"code": 14, "percent": 30, "Percent": 50}}]}`, `rules[0].abort.Percent: unknown field`},
		{`{"rules": [{"abort": {"code": 14, "percent": 30, "percent": 50}}]}`, `rules[0].abort.percent: repeated field`},
		{`[{"delay": {"duration": "1s"}, "delay": {"duration": "2s"}}]`, `[0].delay: repeated field`},
		{`{"Rules": []}`, `Rules: unknown field`},
		{`{"rules": [{"method": "GetFeature", "abort": {"code": 14}}]}`, `"GetFeature"`},
		{`{"rules": []} {}`, `data after`},
		{`{"rules": [`, `rule file`},
	} {
		rules, err := faultinject.ParseRules([]byte(c.file))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseRules(%s) = %+v, %v; want an error with %q", c.file, rules, err, c.want)
		}
	}
}

// FuzzParseSpec checks that no spec panics ParseSpec, and that:
//
//   - an error comes without rules, and names and quotes one of the spec's
//     comma-separated rules ("spec rule N \"token\"");
//   - a blank spec gives no rules, any other accepted spec one valid rule
//     per comma-separated token;
//   - what it accepts FormatSpec writes, and ParseSpec reads that text back
//     into the same rules and FormatSpec writes the same text again;
//   - the rule file form holds the same rules: ParseRules(MarshalRules(rules))
//     gives them back.
func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"unavailable=30%,delay=50ms@10%,first=2:unavailable,every=5:internal",
		"/a.B/*:delay=1s~1ms@0.5%", "14+pushback=-1ms+after=2+msg=x", "unavailable+msg= x ", "delay=5ms+x", ",", "/:x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		rules, err := faultinject.ParseSpec(spec)
		if err != nil {
			if rules != nil {
				t.Errorf("ParseSpec(%q) = %+v, %v; want no rules with the error", spec, rules, err)
			}
			if !quotesSpecRule(err.Error(), spec) {
				t.Errorf("ParseSpec(%q) = %q, want an error naming a rule as spec rule N \"token\"", spec, err)
			}
			return
		}
		if strings.TrimSpace(spec) == "" {
			if rules != nil {
				t.Errorf("ParseSpec(%q) = %+v, want nil", spec, rules)
			}
			return
		}
		if n := len(strings.Split(spec, ",")); len(rules) != n {
			t.Errorf("ParseSpec(%q) gave %d rules, want %d (one per token)", spec, len(rules), n)
		}
		for i, r := range rules {
			if err := r.Validate(); err != nil {
				t.Errorf("ParseSpec(%q)[%d].Validate() = %v, want nil", spec, i, err)
			}
		}
		text, err := faultinject.FormatSpec(rules)
		if err != nil {
			// Messages with "," or "+" cannot come out of ParseSpec.
			t.Fatalf("FormatSpec(ParseSpec(%q)) = %v, want nil error", spec, err)
		}
		again, err := faultinject.ParseSpec(text)
		if err != nil {
			t.Fatalf("ParseSpec(%q) = %v (from %q), want nil error", text, err, spec)
		}
		if diff := cmp.Diff(rules, again); diff != "" {
			t.Fatalf("ParseSpec(%q) vs ParseSpec(%q) (-first +again):\n%s", spec, text, diff)
		}
		if text2, err := faultinject.FormatSpec(again); err != nil || text2 != text {
			t.Errorf("FormatSpec(ParseSpec(%q)) = %q, %v; want %q, nil", text, text2, err, text)
		}
		data, err := faultinject.MarshalRules(rules)
		if err != nil {
			t.Fatalf("MarshalRules(ParseSpec(%q)) = %v, want nil error", spec, err)
		}
		fromFile, err := faultinject.ParseRules(data)
		if err != nil {
			t.Fatalf("ParseRules(%s) = %v (from spec %q), want nil error", data, err, spec)
		}
		if diff := cmp.Diff(rules, fromFile); diff != "" {
			t.Errorf("ParseRules(MarshalRules(ParseSpec(%q))) (-spec +file):\n%s", spec, diff)
		}
	})
}

// quotesSpecRule reports whether msg names one of spec's comma-separated
// rules the way ParseSpec's errors do: its number and its quoted text.
func quotesSpecRule(msg, spec string) bool {
	for i, tok := range strings.Split(spec, ",") {
		if strings.Contains(msg, fmt.Sprintf("spec rule %d %q", i+1, strings.TrimSpace(tok))) {
			return true
		}
	}
	return false
}

// FuzzParseRules checks that no input panics ParseRules, and that:
//
//   - an error comes without rules and starts "faultinject: rule file: ";
//   - every rule it returns is valid;
//   - MarshalRules writes what it accepts, ParseRules reads that back into
//     the same rules, and MarshalRules writes the same bytes again;
//   - the text form holds the same faults: when FormatSpec can write the
//     rules (it refuses only messages with "," or "+" or surrounding space),
//     ParseSpec reads them back, a rule with both a delay and an abort split
//     into two (delay first) and method "*" written as none.
func FuzzParseRules(f *testing.F) {
	f.Add([]byte(`{"rules": [{"method": "/a.B/*", "abort": {"code": "UNAVAILABLE", "percent": 30, "pushback": "100ms"}, "delay": {"duration": "50ms", "jitter": "1ms", "percent": 10}}]}`))
	f.Add([]byte(`[{"abort": {"code": 8, "every": 2, "afterMessages": 1}}]`))
	f.Add([]byte(`{"rules": [{"abort": {"code": "x"}}], "rules": 1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, err := faultinject.ParseRules(data)
		if err != nil {
			if rules != nil {
				t.Errorf("ParseRules(%q) = %+v, %v; want no rules with the error", data, rules, err)
			}
			if !strings.HasPrefix(err.Error(), "faultinject: rule file: ") {
				t.Errorf("ParseRules(%q) = %q, want an error starting \"faultinject: rule file: \"", data, err)
			}
			return
		}
		for i, r := range rules {
			if err := r.Validate(); err != nil {
				t.Errorf("ParseRules(%q)[%d].Validate() = %v, want nil", data, i, err)
			}
		}
		out, err := faultinject.MarshalRules(rules)
		if err != nil {
			t.Fatalf("MarshalRules(ParseRules(%q)) = %v, want nil error", data, err)
		}
		again, err := faultinject.ParseRules(out)
		if err != nil {
			t.Fatalf("ParseRules(%s) = %v (from %q), want nil error", out, err, data)
		}
		if diff := cmp.Diff(rules, again); diff != "" {
			t.Fatalf("ParseRules(%q) vs ParseRules(%s) (-first +again):\n%s", data, out, diff)
		}
		if out2, err := faultinject.MarshalRules(again); err != nil || string(out2) != string(out) {
			t.Errorf("MarshalRules(ParseRules(%s)) = %s, %v; want the same bytes, nil", out, out2, err)
		}
		text, err := faultinject.FormatSpec(rules)
		if err != nil {
			if !hasUnwritableMessage(rules) {
				t.Errorf("FormatSpec(ParseRules(%q)) = %v, want nil error: no message needs refusing", data, err)
			}
			return
		}
		fromSpec, err := faultinject.ParseSpec(text)
		if err != nil {
			t.Fatalf("ParseSpec(%q) = %v (from rule file %q), want nil error", text, err, data)
		}
		if diff := cmp.Diff(asSpecRules(rules), fromSpec, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("ParseSpec(FormatSpec(ParseRules(%q))) (-want +got):\n%s", data, diff)
		}
	})
}

// hasUnwritableMessage reports whether a rule's message is one the text form
// cannot hold.
func hasUnwritableMessage(rules []faultinject.Rule) bool {
	for _, r := range rules {
		if a := r.Abort; a != nil && (strings.ContainsAny(a.Message, ",+") || strings.TrimSpace(a.Message) != a.Message) {
			return true
		}
	}
	return false
}

// asSpecRules returns rules as FormatSpec writes them: a rule with both a
// delay and an abort becomes two, delay first, and "*" becomes "".
func asSpecRules(rules []faultinject.Rule) []faultinject.Rule {
	var out []faultinject.Rule
	for _, r := range rules {
		if r.Method == "*" {
			r.Method = ""
		}
		if r.Delay != nil && r.Abort != nil {
			out = append(out, faultinject.Rule{Method: r.Method, Delay: r.Delay}, faultinject.Rule{Method: r.Method, Abort: r.Abort})
			continue
		}
		out = append(out, r)
	}
	return out
}
