package canonicaljson

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// Errors of the strict decoder beyond the ones Validate reports.
var (
	// ErrNumber: a number that canonical JSON cannot carry (a fraction, an
	// integer outside [-(2**53)+1, (2**53)-1]). Room versions 6+ map this to
	// M_BAD_JSON (rooms/fragments/v6-canonical-json).
	ErrNumber = errors.New("number is not an integer in the canonical JSON range")
	// ErrTooDeep: nesting deeper than MaxDepth.
	ErrTooDeep = errors.New("JSON nested too deeply")
)

// MaxDepth bounds object/array nesting so hostile input cannot exhaust memory
// through recursion. NOTSPEC: the spec sets no limit; 64 KiB events never
// legitimately nest this deep.
const MaxDepth = 512

// MaxSafeInteger is (2**53)-1, the largest magnitude canonical JSON allows
// (appendices, "Canonical JSON").
const MaxSafeInteger = 1<<53 - 1

// Decode parses data strictly into a value tree: map[string]any, []any,
// string, int64, bool and nil. Invalid UTF-8, duplicate keys, lone
// surrogates, fractions and out-of-range integers are errors.
//
// Numbers written with an exponent or a zero fraction (1e10, 2.0) are
// accepted when their value is an integer in range, because the appendix's
// own example canonicalizes {"b": 1e10} to {"b":10000000000}.
func Decode(data []byte) (any, error) { return decode(data, false) }

// DecodeCompat is Decode for room versions 1-5, whose events "might not be
// fully compliant" (appendices, "Canonical JSON" warning): integers outside
// the safe range are kept as json.Number holding their exact digits.
// Fractions are still refused.
//
// NOTSPEC: the appendix's warning says servers SHOULD handle such
// non-compliant JSON "where possible", and v6 names floats as what older
// versions allowed. We keep refusing true fractions (1.5) in v1-5 too: the
// appendix defines no canonical form for a float ("Float values are not
// permitted by this encoding"), so the content hash and signatures of such
// an event cannot be recomputed the way its origin computed them, and we
// would act on a value we did not verify. Integral spellings (2.0, 1e10)
// are accepted as integers, like in Decode.
func DecodeCompat(data []byte) (any, error) { return decode(data, true) }

func decode(data []byte, compat bool) (any, error) {
	p := parser{data: data, compat: compat}
	p.skipSpace()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.data) {
		return nil, ErrTrailing
	}
	return v, nil
}

type parser struct {
	data   []byte
	pos    int
	compat bool
}

func (p *parser) syntax(what string) error {
	return fmt.Errorf("%w: %s at offset %d", ErrSyntax, what, p.pos)
}

func (p *parser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (any, error) {
	if p.pos >= len(p.data) {
		return nil, p.syntax("unexpected end of input")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object(depth + 1)
	case c == '[':
		return p.array(depth + 1)
	case c == '"':
		return p.string()
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	default:
		return p.literal()
	}
}

func (p *parser) literal() (any, error) {
	for _, lit := range []struct {
		text string
		val  any
	}{{"true", true}, {"false", false}, {"null", nil}} {
		if len(p.data)-p.pos >= len(lit.text) && string(p.data[p.pos:p.pos+len(lit.text)]) == lit.text {
			p.pos += len(lit.text)
			return lit.val, nil
		}
	}
	return nil, p.syntax("invalid character")
}

func (p *parser) object(depth int) (any, error) {
	if depth > MaxDepth {
		return nil, ErrTooDeep
	}
	p.pos++ // '{'
	obj := map[string]any{}
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return obj, nil
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return nil, p.syntax("expected object key")
		}
		key, err := p.string()
		if err != nil {
			return nil, err
		}
		if _, dup := obj[key]; dup {
			return nil, fmt.Errorf("%w: %q", ErrDuplicateKey, key)
		}
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return nil, p.syntax("expected ':'")
		}
		p.pos++
		p.skipSpace()
		if obj[key], err = p.value(depth); err != nil {
			return nil, err
		}
		if done, err := p.endOrComma('}'); done || err != nil {
			return obj, err
		}
	}
}

func (p *parser) array(depth int) (any, error) {
	if depth > MaxDepth {
		return nil, ErrTooDeep
	}
	p.pos++ // '['
	arr := []any{}
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return arr, nil
	}
	for {
		p.skipSpace()
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
		if done, err := p.endOrComma(']'); done || err != nil {
			return arr, err
		}
	}
}

// endOrComma consumes the separator after a member or element.
func (p *parser) endOrComma(end byte) (bool, error) {
	p.skipSpace()
	if p.pos >= len(p.data) {
		return false, p.syntax("unexpected end of input")
	}
	switch p.data[p.pos] {
	case ',':
		p.pos++
		return false, nil
	case end:
		p.pos++
		return true, nil
	}
	return false, p.syntax("expected ',' or closing bracket")
}

// string decodes a string literal, refusing raw control characters, invalid
// UTF-8 and unpaired surrogate escapes.
func (p *parser) string() (string, error) {
	p.pos++ // opening quote
	start := p.pos
	// Fast path: no escapes.
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		if c == '"' {
			s := p.data[start:p.pos]
			if !utf8.Valid(s) {
				return "", ErrInvalidUTF8
			}
			p.pos++
			return string(s), nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		p.pos++
	}
	buf := append([]byte(nil), p.data[start:p.pos]...)
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			if !utf8.Valid(buf) {
				return "", ErrInvalidUTF8
			}
			return string(buf), nil
		case c < 0x20:
			return "", p.syntax("control character in string")
		case c == '\\':
			var err error
			if buf, err = p.escape(buf); err != nil {
				return "", err
			}
		default:
			buf = append(buf, c)
			p.pos++
		}
	}
	return "", p.syntax("unterminated string")
}

func (p *parser) escape(buf []byte) ([]byte, error) {
	if p.pos+1 >= len(p.data) {
		return nil, p.syntax("unterminated escape")
	}
	c := p.data[p.pos+1]
	p.pos += 2
	switch c {
	case '"', '\\', '/':
		return append(buf, c), nil
	case 'b':
		return append(buf, '\b'), nil
	case 'f':
		return append(buf, '\f'), nil
	case 'n':
		return append(buf, '\n'), nil
	case 'r':
		return append(buf, '\r'), nil
	case 't':
		return append(buf, '\t'), nil
	case 'u':
	default:
		return nil, p.syntax("invalid escape")
	}
	r, ok := hex4(p.data, p.pos)
	if !ok {
		return nil, p.syntax("invalid \\u escape")
	}
	p.pos += 4
	switch {
	case r >= 0xDC00 && r <= 0xDFFF:
		return nil, ErrLoneSurrogate
	case r >= 0xD800 && r <= 0xDBFF:
		if p.pos+6 > len(p.data) || p.data[p.pos] != '\\' || p.data[p.pos+1] != 'u' {
			return nil, ErrLoneSurrogate
		}
		lo, ok := hex4(p.data, p.pos+2)
		if !ok || lo < 0xDC00 || lo > 0xDFFF {
			return nil, ErrLoneSurrogate
		}
		p.pos += 6
		r = utf16.DecodeRune(r, lo)
	}
	return utf8.AppendRune(buf, r), nil
}

// number scans a JSON number and converts it to its canonical form.
func (p *parser) number() (any, error) {
	start := p.pos
	if p.data[p.pos] == '-' {
		p.pos++
	}
	intStart := p.pos
	p.digits()
	if p.pos == intStart || (p.data[intStart] == '0' && p.pos-intStart > 1) {
		return nil, p.syntax("invalid number")
	}
	intEnd := p.pos
	fracStart, fracEnd := p.pos, p.pos
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		p.pos++
		fracStart = p.pos
		p.digits()
		if p.pos == fracStart {
			return nil, p.syntax("invalid number")
		}
		fracEnd = p.pos
	}
	expText := ""
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		p.pos++
		expStart := p.pos
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		digitsStart := p.pos
		p.digits()
		if p.pos == digitsStart {
			return nil, p.syntax("invalid number")
		}
		expText = string(p.data[expStart:p.pos])
	}
	neg := p.data[start] == '-'
	if fracStart == fracEnd && expText == "" {
		return plainInteger(neg, string(p.data[intStart:intEnd]), p.compat)
	}
	return scaledInteger(neg, string(p.data[intStart:intEnd]), string(p.data[fracStart:fracEnd]), expText)
}

func (p *parser) digits() {
	for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
		p.pos++
	}
}

// plainInteger converts an integer literal without fraction or exponent.
// "-0" becomes 0 (the appendix forbids negative zero).
func plainInteger(neg bool, digits string, compat bool) (any, error) {
	if len(digits) <= 16 {
		n := parseDigits(digits)
		if n <= MaxSafeInteger {
			if neg {
				n = -n
			}
			return n, nil
		}
	}
	if !compat {
		return nil, fmt.Errorf("%w: %s", ErrNumber, digits)
	}
	if neg {
		digits = "-" + digits
	}
	return json.Number(digits), nil
}

func parseDigits(digits string) int64 {
	var n int64
	for i := 0; i < len(digits); i++ {
		n = n*10 + int64(digits[i]-'0')
	}
	return n
}
