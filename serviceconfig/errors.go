package serviceconfig

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Error reports the first rule a service config breaks. [Parse],
// [Config.Validate], [Config.Normalized] and [Config.MarshalJSON] return it;
// use errors.As to get at it.
type Error struct {
	// Path locates the bad field in A6 JSON terms, e.g.
	// "methodConfig[0].retryPolicy.maxAttempts"; it is empty when the
	// document as a whole is at fault (empty input, bad JSON syntax).
	Path string

	// Msg says what is wrong, quoting the bad value, e.g.
	// "1 is not greater than 1".
	Msg string

	// Err is the underlying cause, if any: a *json.SyntaxError, or the error
	// from rstatus.ParseCode.
	Err error
}

// Error returns "serviceconfig: " followed by the path and the message.
func (e *Error) Error() string {
	if e.Path == "" {
		return "serviceconfig: " + e.Msg
	}
	return "serviceconfig: " + e.Path + ": " + e.Msg
}

// Unwrap returns the underlying cause, or nil.
func (e *Error) Unwrap() error { return e.Err }

func errorf(path, format string, args ...any) *Error {
	return &Error{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// joinKey appends an object member to a path. Keys that are not plain
// identifiers are quoted so the path stays unambiguous.
func joinKey(path, key string) string {
	if !isIdent(key) {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// joinIndex appends an array index to a path.
func joinIndex(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z':
		case '0' <= r && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// maxShown bounds how much of a bad value an error message quotes.
const maxShown = 40

// shorten cuts s to maxShown bytes on a rune boundary, marking the cut.
func shorten(s string) string {
	if len(s) <= maxShown {
		return s
	}
	cut := maxShown - 3
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// didYouMean suggests a known field for an unknown key that differs only in
// case or underscores, the usual slips (grpc-go's own parser ignores case).
func didYouMean(key string, known []string) string {
	k := strings.ToLower(strings.ReplaceAll(key, "_", ""))
	for _, name := range known {
		if strings.ToLower(name) == k {
			return fmt.Sprintf(" (did you mean %q?)", name)
		}
	}
	return ""
}
