package faultinject

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"google.golang.org/grpc/codes"

	rstatus "github.com/resilience-go/grpc-resilience/status"
)

// The JSON shapes of a rule file. Durations are Go duration strings
// ("50ms"), codes are names in any case or numbers.
type (
	fileRules struct {
		Rules []fileRule `json:"rules"`
	}
	fileRule struct {
		Method string     `json:"method,omitempty"`
		Abort  *fileAbort `json:"abort,omitempty"`
		Delay  *fileDelay `json:"delay,omitempty"`
	}
	fileAbort struct {
		Code          json.RawMessage `json:"code"`
		Message       string          `json:"message,omitempty"`
		Percent       *float64        `json:"percent,omitempty"`
		First         int             `json:"first,omitempty"`
		Every         int             `json:"every,omitempty"`
		AfterMessages int             `json:"afterMessages,omitempty"`
		AfterRequests int             `json:"afterRequests,omitempty"`
		Pushback      string          `json:"pushback,omitempty"`
	}
	fileDelay struct {
		Duration string   `json:"duration"`
		Jitter   string   `json:"jitter,omitempty"`
		Percent  *float64 `json:"percent,omitempty"`
	}
)

// ParseRules parses a rule file: JSON holding either {"rules": [...]} or
// the list alone. Each rule has the fields of [Rule] in lower camel case;
// durations are Go duration strings and codes are names or numbers:
//
//	{"rules": [
//	  {"method": "/routeguide.RouteGuide/*",
//	   "abort": {"code": "UNAVAILABLE", "percent": 30, "pushback": "100ms"},
//	   "delay": {"duration": "50ms", "jitter": "10ms", "percent": 10}},
//	  {"abort": {"code": "internal", "every": 5}}
//	]}
//
// An abort or delay without percent, first or every fires on every matching
// call (100%), as in the text form. Field names are matched exactly (unlike
// encoding/json's default, "Percent" is not "percent"); unknown and repeated
// fields are errors; every error names the rule and field.
func ParseRules(data []byte) ([]Rule, error) {
	data = bytes.TrimSpace(data)
	if err := checkKeys(json.NewDecoder(bytes.NewReader(data)), fileSchema(data), ""); err != nil {
		return nil, fmt.Errorf("faultinject: rule file: %w", err)
	}
	var list []fileRule
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var err error
	if len(data) > 0 && data[0] == '[' {
		err = dec.Decode(&list)
	} else {
		var f fileRules
		err = dec.Decode(&f)
		list = f.Rules
	}
	if err != nil {
		return nil, fmt.Errorf("faultinject: rule file: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("faultinject: rule file: data after the rules")
	}
	rules := make([]Rule, 0, len(list))
	for i, fr := range list {
		r, err := fr.rule()
		if err == nil {
			err = r.validate()
		}
		if err != nil {
			return nil, fmt.Errorf("faultinject: rule file: rules[%d]: %w", i, err)
		}
		rules = append(rules, r)
	}
	return rules, nil
}

func (fr fileRule) rule() (Rule, error) {
	r := Rule{Method: fr.Method}
	if fa := fr.Abort; fa != nil {
		a := &Abort{Message: fa.Message, First: fa.First, Every: fa.Every, AfterMessages: fa.AfterMessages, AfterRequests: fa.AfterRequests}
		code, err := parseFileCode(fa.Code)
		if err != nil {
			return r, err
		}
		a.Code = code
		switch {
		case fa.Percent != nil:
			a.Percent = *fa.Percent
		case fa.First == 0 && fa.Every == 0:
			a.Percent = 100
		}
		if fa.Pushback != "" {
			d, err := time.ParseDuration(fa.Pushback)
			if err != nil {
				return r, fmt.Errorf("abort.pushback: bad duration %q", fa.Pushback)
			}
			a.Pushback = &d
		}
		r.Abort = a
	}
	if fd := fr.Delay; fd != nil {
		d := &Delay{Percent: 100}
		var err error
		if d.Duration, err = time.ParseDuration(fd.Duration); err != nil {
			return r, fmt.Errorf("delay.duration: bad duration %q", fd.Duration)
		}
		if fd.Jitter != "" {
			if d.Jitter, err = time.ParseDuration(fd.Jitter); err != nil {
				return r, fmt.Errorf("delay.jitter: bad duration %q", fd.Jitter)
			}
		}
		if fd.Percent != nil {
			d.Percent = *fd.Percent
		}
		r.Delay = d
	}
	return r, nil
}

// parseFileCode reads a code given as a JSON string or number.
func parseFileCode(raw json.RawMessage) (codes.Code, error) {
	if len(raw) == 0 {
		return 0, fmt.Errorf("abort.code: missing")
	}
	text := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &text); err != nil {
			return 0, fmt.Errorf("abort.code: %s: %w", raw, err)
		}
	}
	c, err := rstatus.ParseCode(text)
	if err != nil {
		return 0, fmt.Errorf("abort.code: %w", err)
	}
	return c, nil
}

// MarshalRules returns the rule file form of rules, which ParseRules reads
// back into equal rules. Codes are written as canonical names.
func MarshalRules(rules []Rule) ([]byte, error) {
	f := fileRules{Rules: make([]fileRule, 0, len(rules))}
	for i, r := range rules {
		if err := r.validate(); err != nil {
			return nil, fmt.Errorf("faultinject: rule %d: %w", i, err)
		}
		fr := fileRule{Method: r.Method}
		if a := r.Abort; a != nil {
			code, _ := json.Marshal(rstatus.Name(a.Code))
			fa := &fileAbort{Code: code, Message: a.Message, First: a.First, Every: a.Every, AfterMessages: a.AfterMessages, AfterRequests: a.AfterRequests}
			if a.Percent != 0 {
				p := a.Percent
				fa.Percent = &p
			}
			if a.Pushback != nil {
				fa.Pushback = a.Pushback.String()
			}
			fr.Abort = fa
		}
		if d := r.Delay; d != nil {
			p := d.Percent
			fd := &fileDelay{Duration: d.Duration.String(), Percent: &p}
			if d.Jitter != 0 {
				fd.Jitter = d.Jitter.String()
			}
			fr.Delay = fd
		}
		f.Rules = append(f.Rules, fr)
	}
	return json.MarshalIndent(f, "", "  ")
}

// keys is the shape of a JSON value whose object keys are checked: the keys
// an object may hold, or the shape of an array's elements. A nil *keys
// checks nothing below it.
type keys struct {
	fields map[string]*keys
	elem   *keys
}

var (
	abortKeys = &keys{fields: map[string]*keys{"code": nil, "message": nil, "percent": nil,
		"first": nil, "every": nil, "afterMessages": nil, "afterRequests": nil, "pushback": nil}}
	delayKeys = &keys{fields: map[string]*keys{"duration": nil, "jitter": nil, "percent": nil}}
	ruleKeys  = &keys{fields: map[string]*keys{"method": nil, "abort": abortKeys, "delay": delayKeys}}
	listKeys  = &keys{elem: ruleKeys}
	fileKeys  = &keys{fields: map[string]*keys{"rules": listKeys}}
)

// fileSchema returns the shape of a rule file: a bare list or an object.
func fileSchema(data []byte) *keys {
	if len(data) > 0 && data[0] == '[' {
		return listKeys
	}
	return fileKeys
}

// checkKeys reads one JSON value and fails on an object key that is not
// exactly one of k's, or is repeated: encoding/json would match it without
// regard to case and let the last one win.
func checkKeys(dec *json.Decoder, k *keys, path string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			t, err := dec.Token()
			if err != nil {
				return err
			}
			key, _ := t.(string)
			at := strings.TrimPrefix(path+"."+key, ".")
			if seen[key] {
				return fmt.Errorf("%s: repeated field", at)
			}
			seen[key] = true
			var sub *keys
			if k != nil && k.fields != nil {
				var ok bool
				if sub, ok = k.fields[key]; !ok {
					return fmt.Errorf("%s: unknown field %q", at, key)
				}
			}
			if err := checkKeys(dec, sub, at); err != nil {
				return err
			}
		}
		_, err = dec.Token() // '}'
		return err
	case json.Delim('['):
		var elem *keys
		if k != nil {
			elem = k.elem
		}
		for i := 0; dec.More(); i++ {
			if err := checkKeys(dec, elem, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		_, err = dec.Token() // ']'
		return err
	}
	return nil
}
