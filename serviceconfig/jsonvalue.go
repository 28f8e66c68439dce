package serviceconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"google.golang.org/grpc/codes"

	rstatus "github.com/resilience-go/grpc-resilience/status"
)

// This file decodes one JSON value at a time, each with the path it sits at,
// so that every error can name its field. The input was checked for syntax
// before any of this runs.

// member is one name/value pair of a JSON object, in document order.
type member struct {
	key   string
	value json.RawMessage
}

// field describes one known member of an object.
type field struct {
	name     string
	required bool
	decode   func(raw json.RawMessage, path string) error
}

// decodeObject checks that raw is an object, rejects members that fields does
// not list, and decodes the others in document order. A null member counts as
// absent, as in proto3 JSON.
func decodeObject(raw json.RawMessage, path string, fields []field) error {
	members, err := objectMembers(raw, path)
	if err != nil {
		return err
	}
	seen := make([]bool, len(fields))
	for _, m := range members {
		i := indexOf(fields, m.key)
		if i < 0 {
			names := make([]string, len(fields))
			for j, f := range fields {
				names[j] = f.name
			}
			return errorf(joinKey(path, m.key), "unknown field%s", didYouMean(m.key, names))
		}
		if kind(m.value) == kindNull {
			continue
		}
		seen[i] = true
		if err := fields[i].decode(m.value, joinKey(path, m.key)); err != nil {
			return err
		}
	}
	for i, f := range fields {
		if f.required && !seen[i] {
			return errorf(joinKey(path, f.name), "required field missing")
		}
	}
	return nil
}

func indexOf(fields []field, key string) int {
	for i, f := range fields {
		if f.name == key {
			return i
		}
	}
	return -1
}

func objectMembers(raw json.RawMessage, path string) ([]member, error) {
	if err := expect(raw, path, kindObject); err != nil {
		return nil, err
	}
	return splitObject(raw), nil
}

// decodeArray checks that raw is an array and calls each for every element.
func decodeArray(raw json.RawMessage, path string, each func(raw json.RawMessage, path string) error) error {
	if err := expect(raw, path, kindArray); err != nil {
		return err
	}
	for i, e := range splitArray(raw) {
		if err := each(e, joinIndex(path, i)); err != nil {
			return err
		}
	}
	return nil
}

type jsonKind int

const (
	kindNull jsonKind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

func (k jsonKind) String() string {
	return [...]string{"null", "a boolean", "a number", "a string", "an array", "an object"}[k]
}

func kind(raw json.RawMessage) jsonKind {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return kindNull
	}
	switch raw[0] {
	case 'n':
		return kindNull
	case 't', 'f':
		return kindBool
	case '"':
		return kindString
	case '[':
		return kindArray
	case '{':
		return kindObject
	}
	return kindNumber
}

// expect reports a type error naming the path, the value and the wanted kind.
func expect(raw json.RawMessage, path string, want jsonKind) error {
	if got := kind(raw); got != want {
		return typeError(raw, path, want.String())
	}
	return nil
}

func typeError(raw json.RawMessage, path, want string) error {
	if kind(raw) == kindNull {
		return errorf(path, "null is not %s", want)
	}
	return errorf(path, "%s is %s, not %s", show(raw), kind(raw), want)
}

// show renders a JSON value for an error message: compacted and shortened.
func show(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return shorten(string(raw))
	}
	return shorten(b.String())
}

func decodeString(raw json.RawMessage, path string) (string, error) {
	if err := expect(raw, path, kindString); err != nil {
		return "", err
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", syntaxError(raw, err)
	}
	return s, nil
}

func decodeBool(raw json.RawMessage, path string) (bool, error) {
	if err := expect(raw, path, kindBool); err != nil {
		return false, err
	}
	return bytes.Equal(bytes.TrimSpace(raw), []byte("true")), nil
}

// decodeInt accepts a JSON number written as an integer, as grpc-go's parser
// does: 3 is an integer, 3.0 and 3e0 are not.
func decodeInt(raw json.RawMessage, path string) (int64, error) {
	if kind(raw) != kindNumber {
		return 0, typeError(raw, path, "an integer")
	}
	text := string(bytes.TrimSpace(raw))
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, errorf(path, "%s is out of range", shorten(text))
		}
		return 0, errorf(path, "%s is not an integer", shorten(text))
	}
	return n, nil
}

// decodeIntField is decodeInt for a Go int, saturating where int is 32 bits.
func decodeIntField(raw json.RawMessage, path string) (int, error) {
	n, err := decodeInt(raw, path)
	return int(max(min(n, math.MaxInt), math.MinInt)), err
}

func decodeFloat(raw json.RawMessage, path string) (float64, error) {
	if kind(raw) != kindNumber {
		return 0, typeError(raw, path, "a number")
	}
	text := string(bytes.TrimSpace(raw))
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return 0, errorf(path, "%s is out of range", shorten(text))
	}
	return f, nil
}

func decodeDuration(raw json.RawMessage, path string) (time.Duration, error) {
	if kind(raw) != kindString {
		return 0, typeError(raw, path, `a duration string like "0.1s"`)
	}
	s, err := decodeString(raw, path)
	if err != nil {
		return 0, err
	}
	d, err := parseDuration(s)
	if err != nil {
		return 0, errorf(path, "%s %v", shorten(strconv.Quote(s)), err)
	}
	return d, nil
}

// decodeCode accepts a code name in any case or a number from 0 to 16,
// written as a JSON string or number.
func decodeCode(raw json.RawMessage, path string) (codes.Code, error) {
	var text string
	switch kind(raw) {
	case kindString:
		s, err := decodeString(raw, path)
		if err != nil {
			return 0, err
		}
		text = s
	case kindNumber:
		text = string(bytes.TrimSpace(raw))
	default:
		return 0, typeError(raw, path, "a status code name or number")
	}
	c, err := rstatus.ParseCode(text)
	if err != nil {
		return 0, &Error{Path: path, Msg: err.Error(), Err: err}
	}
	return c, nil
}

func decodeCodes(raw json.RawMessage, path string) ([]codes.Code, error) {
	var out []codes.Code
	err := decodeArray(raw, path, func(raw json.RawMessage, path string) error {
		c, err := decodeCode(raw, path)
		out = append(out, c)
		return err
	})
	return out, err
}

// syntaxError reports a JSON syntax error in data, located by line and
// column as well as by byte offset.
func syntaxError(data []byte, err error) *Error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		// encoding/json counts the bad byte in Offset.
		line, col := lineCol(data, int(se.Offset)-1)
		return &Error{Msg: fmt.Sprintf("invalid JSON at line %d, column %d (offset %d): %v", line, col, se.Offset, err), Err: err}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		line, col := lineCol(data, len(data))
		return &Error{Msg: fmt.Sprintf("invalid JSON at line %d, column %d (offset %d): unexpected end of input", line, col, len(data)), Err: err}
	}
	return &Error{Msg: "invalid JSON: " + err.Error(), Err: err}
}

// lineCol gives the 1-based line and column of the byte at index pos.
func lineCol(data []byte, pos int) (line, col int) {
	pos = min(max(pos, 0), len(data))
	before := data[:pos]
	line = bytes.Count(before, []byte("\n")) + 1
	col = pos - bytes.LastIndexByte(before, '\n')
	return line, col
}
