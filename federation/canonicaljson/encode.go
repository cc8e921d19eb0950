package canonicaljson

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// ErrUnsupportedType: Encode was given a Go value outside the value tree.
var ErrUnsupportedType = errors.New("value cannot be encoded as canonical JSON")

// Canonicalize parses data with Decode's strictness and returns its
// canonical encoding (appendices, "Canonical JSON"): keys sorted by code
// point, no insignificant whitespace, UTF-8 with only the escapes the
// grammar requires, integers only.
func Canonicalize(data []byte) ([]byte, error) {
	v, err := Decode(data)
	if err != nil {
		return nil, err
	}
	return Encode(v)
}

// CanonicalizeCompat is Canonicalize for room versions 1-5 (see DecodeCompat).
func CanonicalizeCompat(data []byte) ([]byte, error) {
	v, err := DecodeCompat(data)
	if err != nil {
		return nil, err
	}
	return Encode(v)
}

// Marshal encodes any Go value as canonical JSON: encoding/json first (so
// struct tags apply), then Canonicalize.
func Marshal(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("marshal: %w", err)
	}
	return Canonicalize(raw)
}

// Encode writes a value tree (as produced by Decode) canonically. It also
// accepts int, float64 holding a safe integer, json.Number holding an
// integer, json.RawMessage (canonicalized) and []string / map[string]string
// for convenience when building trees by hand.
func Encode(v any) ([]byte, error) {
	return AppendValue(make([]byte, 0, 256), v)
}

// AppendValue appends the canonical encoding of v to buf.
func AppendValue(buf []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(buf, "null"...), nil
	case bool:
		return strconv.AppendBool(buf, x), nil
	case string:
		return AppendString(buf, x), nil
	case int64:
		return appendInt(buf, x)
	case int:
		return appendInt(buf, int64(x))
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > MaxSafeInteger {
			return nil, fmt.Errorf("%w: %v", ErrNumber, x)
		}
		return appendInt(buf, int64(x))
	case json.Number:
		return appendNumber(buf, x)
	case json.RawMessage:
		inner, err := Canonicalize(x)
		if err != nil {
			return nil, err
		}
		return append(buf, inner...), nil
	case map[string]any:
		return appendObject(buf, x)
	case []any:
		return appendArray(buf, x)
	case []string:
		arr := make([]any, len(x))
		for i, s := range x {
			arr[i] = s
		}
		return appendArray(buf, arr)
	case map[string]string:
		obj := make(map[string]any, len(x))
		for k, s := range x {
			obj[k] = s
		}
		return appendObject(buf, obj)
	}
	return nil, fmt.Errorf("%w: %T", ErrUnsupportedType, v)
}

func appendInt(buf []byte, n int64) ([]byte, error) {
	if n > MaxSafeInteger || n < -MaxSafeInteger {
		return nil, fmt.Errorf("%w: %d", ErrNumber, n)
	}
	return strconv.AppendInt(buf, n, 10), nil
}

// appendNumber writes a json.Number. Compat decoding stores out-of-range
// integers this way, so plain integer digits of any size are written as
// they are; anything else must decode to a safe integer.
func appendNumber(buf []byte, n json.Number) ([]byte, error) {
	v, err := DecodeCompat([]byte(n))
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case int64:
		return strconv.AppendInt(buf, x, 10), nil
	case json.Number:
		return append(buf, x...), nil
	}
	return nil, fmt.Errorf("%w: %q", ErrNumber, string(n))
}

func appendObject(buf []byte, obj map[string]any) ([]byte, error) {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	// Byte order of UTF-8 strings is code point order, as the appendix asks.
	slices.Sort(keys)
	buf = append(buf, '{')
	for i, k := range keys {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = AppendString(buf, k)
		buf = append(buf, ':')
		var err error
		if buf, err = AppendValue(buf, obj[k]); err != nil {
			return nil, err
		}
	}
	return append(buf, '}'), nil
}

func appendArray(buf []byte, arr []any) ([]byte, error) {
	buf = append(buf, '[')
	for i, v := range arr {
		if i > 0 {
			buf = append(buf, ',')
		}
		var err error
		if buf, err = AppendValue(buf, v); err != nil {
			return nil, err
		}
	}
	return append(buf, ']'), nil
}

// AppendString writes s as a canonical JSON string: the grammar's
// "unescaped" set (everything from U+0020 except '"' and '\') is written raw,
// \b \t \n \f \r \" \\ use their short escapes and the remaining control
// characters are \u00XX with lowercase hex. Invalid UTF-8 (impossible for
// decoded input) is replaced by U+FFFD so the output is always valid.
func AppendString(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				buf = utf8.AppendRune(buf, utf8.RuneError)
			} else {
				buf = append(buf, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch {
		case c == '"':
			buf = append(buf, '\\', '"')
		case c == '\\':
			buf = append(buf, '\\', '\\')
		case c == '\b':
			buf = append(buf, '\\', 'b')
		case c == '\t':
			buf = append(buf, '\\', 't')
		case c == '\n':
			buf = append(buf, '\\', 'n')
		case c == '\f':
			buf = append(buf, '\\', 'f')
		case c == '\r':
			buf = append(buf, '\\', 'r')
		case c < 0x20:
			buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		default:
			buf = append(buf, c)
		}
		i++
	}
	return append(buf, '"')
}
