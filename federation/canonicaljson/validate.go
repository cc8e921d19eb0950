package canonicaljson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Strictness errors. Matrix requires that what is verified is exactly what is
// acted on, so input that a lenient parser would silently rewrite is refused.
var (
	ErrInvalidUTF8   = errors.New("invalid UTF-8")
	ErrDuplicateKey  = errors.New("duplicate object key")
	ErrLoneSurrogate = errors.New("lone UTF-16 surrogate escape")
	ErrNULCharacter  = errors.New("NUL character in string")
	ErrSyntax        = errors.New("malformed JSON")
	ErrTrailing      = errors.New("data after the JSON value")
)

// Validate checks that data is one well-formed JSON value with valid UTF-8,
// no duplicate object keys and no lone surrogate escapes.
func Validate(data []byte) error { return validate(data, false) }

// ValidateNoNUL is Validate that also refuses U+0000 inside strings.
// NOTSPEC: the client API refuses NUL because PostgreSQL text columns cannot
// hold it and clients never need it.
func ValidateNoNUL(data []byte) error { return validate(data, true) }

func validate(data []byte, rejectNUL bool) error {
	if !utf8.Valid(data) {
		return ErrInvalidUTF8
	}
	if err := checkEscapes(data, rejectNUL); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := walk(dec); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return ErrTrailing
	}
	return nil
}

// walk consumes one value, checking object keys for duplicates.
func walk(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]struct{}{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return fmt.Errorf("%w: %v", ErrSyntax, err)
			}
			key, ok := k.(string)
			if !ok {
				return ErrSyntax
			}
			if _, dup := seen[key]; dup {
				return fmt.Errorf("%w: %q", ErrDuplicateKey, key)
			}
			seen[key] = struct{}{}
			if err := walk(dec); err != nil {
				return err
			}
		}
		_, err = dec.Token()
	case json.Delim('['):
		for dec.More() {
			if err := walk(dec); err != nil {
				return err
			}
		}
		_, err = dec.Token()
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	return nil
}

// checkEscapes scans string literals for \u escapes that encoding/json would
// silently replace: unpaired surrogates (and NUL when asked).
func checkEscapes(data []byte, rejectNUL bool) error {
	inString := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if !inString {
			if c == '"' {
				inString = true
			}
			continue
		}
		switch c {
		case '"':
			inString = false
		case '\\':
			if i+1 >= len(data) {
				return ErrSyntax
			}
			if data[i+1] != 'u' {
				i++
				continue
			}
			r, ok := hex4(data, i+2)
			if !ok {
				return ErrSyntax
			}
			i += 5
			switch {
			case r == 0 && rejectNUL:
				return ErrNULCharacter
			case r >= 0xDC00 && r <= 0xDFFF:
				return ErrLoneSurrogate
			case r >= 0xD800 && r <= 0xDBFF:
				if i+6 >= len(data) || data[i+1] != '\\' || data[i+2] != 'u' {
					return ErrLoneSurrogate
				}
				lo, ok := hex4(data, i+3)
				if !ok || lo < 0xDC00 || lo > 0xDFFF {
					return ErrLoneSurrogate
				}
				i += 6
			}
		}
	}
	return nil
}

func hex4(data []byte, at int) (rune, bool) {
	if at+4 > len(data) {
		return 0, false
	}
	var r rune
	for _, c := range data[at : at+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}
