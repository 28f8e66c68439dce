package serviceconfig

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// This file splits JSON that encoding/json has already checked into object
// members and array elements, by scanning bytes: no copies, no tokens, a
// constant cost per byte at every level. (json.Decoder's Token API costs an
// allocation per token and a copy of its input per object, which made a
// config with 10^5 method entries take seconds.) On input that is not valid
// JSON the scanner never panics: it stops at the end of its input.

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipSpace returns the index of the first byte at or after i that is not
// JSON whitespace.
func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// stringEnd returns the index just past the JSON string that starts at b[i],
// a '"'.
func stringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// valueEnd returns the index just past the JSON value that starts at b[i].
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return len(b)
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = stringEnd(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(b)
	}
	// A number, true, false or null.
	for i < len(b) && !isSpace(b[i]) && b[i] != ',' && b[i] != '}' && b[i] != ']' {
		i++
	}
	return i
}

// decodeKey decodes a JSON string, as encoding/json would.
func decodeKey(raw []byte) string {
	if len(raw) >= 2 {
		inner := raw[1 : len(raw)-1]
		if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
			return string(inner)
		}
	}
	var s string
	_ = json.Unmarshal(raw, &s) // checked before: cannot fail
	return s
}

// splitObject returns the members of the JSON object raw, in document
// order, their values trimmed of whitespace.
func splitObject(raw []byte) []member {
	i := skipSpace(raw, 0) + 1 // past '{'
	var members []member
	for {
		i = skipSpace(raw, i)
		if i < len(raw) && raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
		if i >= len(raw) || raw[i] != '"' {
			return members // '}', or the end of bad input
		}
		kend := stringEnd(raw, i)
		key := decodeKey(raw[i:kend])
		i = skipSpace(raw, kend)
		if i < len(raw) && raw[i] == ':' {
			i = skipSpace(raw, i+1)
		}
		vend := valueEnd(raw, i)
		members = append(members, member{key, json.RawMessage(raw[i:vend])})
		i = vend
	}
}

// splitArray returns the elements of the JSON array raw, trimmed of
// whitespace.
func splitArray(raw []byte) []json.RawMessage {
	i := skipSpace(raw, 0) + 1 // past '['
	var elems []json.RawMessage
	for {
		i = skipSpace(raw, i)
		if i < len(raw) && raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
		if i >= len(raw) || raw[i] == ']' {
			return elems
		}
		end := valueEnd(raw, i)
		if end == i {
			return elems // bad input: no progress
		}
		elems = append(elems, json.RawMessage(raw[i:end]))
		i = end
	}
}

// pathSeg is one step of a JSON path: a member's key, or an element's
// index when key is unset.
type pathSeg struct {
	key   string
	index int
	isKey bool
}

func buildPath(segs []pathSeg) string {
	path := ""
	for _, s := range segs {
		if s.isKey {
			path = joinKey(path, s.key)
		} else {
			path = joinIndex(path, s.index)
		}
	}
	return path
}

// smallObject is the most members checked for repeats pair by pair, with
// no map: enough for every object a service config defines.
const smallObject = 8

// checkDuplicates walks the whole document, loadBalancingConfig included,
// and reports the first object member whose name was already used in the
// same object. grpc-go would silently keep the last one. data must be valid
// JSON. It reads each byte once, however deep the nesting (a split per level
// would read a value again at every level above it), and builds the
// error's path only when there is one.
func checkDuplicates(data []byte) error {
	_, err := scanDuplicates(data, skipSpace(data, 0), nil)
	return err
}

// scanDuplicates checks the value that starts at b[i] and returns the index
// just past it.
func scanDuplicates(b []byte, i int, path []pathSeg) (int, error) {
	if i >= len(b) {
		return i, nil
	}
	switch b[i] {
	case '{':
		var keys []string
		var seen map[string]struct{}
		i++
		for {
			i = skipSpace(b, i)
			if i < len(b) && b[i] == ',' {
				i = skipSpace(b, i+1)
			}
			if i >= len(b) || b[i] != '"' {
				return min(i+1, len(b)), nil // past '}', or the end of bad input
			}
			kend := stringEnd(b, i)
			key := decodeKey(b[i:kend])
			dup := false
			switch {
			case seen != nil:
				_, dup = seen[key]
				seen[key] = struct{}{}
			case len(keys) < smallObject:
				for _, k := range keys {
					dup = dup || k == key
				}
				keys = append(keys, key)
			default:
				seen = make(map[string]struct{}, 2*smallObject)
				for _, k := range keys {
					seen[k] = struct{}{}
				}
				_, dup = seen[key]
				seen[key] = struct{}{}
			}
			p := append(path, pathSeg{key: key, isKey: true})
			if dup {
				return i, errorf(buildPath(p), "duplicate field")
			}
			i = skipSpace(b, kend)
			if i < len(b) && b[i] == ':' {
				i = skipSpace(b, i+1)
			}
			end, err := scanDuplicates(b, i, p)
			if err != nil || end <= i {
				return end, err // an error, or no progress on bad input
			}
			i = end
		}
	case '[':
		i++
		for n := 0; ; n++ {
			i = skipSpace(b, i)
			if i < len(b) && b[i] == ',' {
				i = skipSpace(b, i+1)
			}
			if i >= len(b) || b[i] == ']' {
				return min(i+1, len(b)), nil
			}
			end, err := scanDuplicates(b, i, append(path, pathSeg{index: n}))
			if err != nil || end <= i {
				return end, err
			}
			i = end
		}
	}
	return valueEnd(b, i), nil
}
