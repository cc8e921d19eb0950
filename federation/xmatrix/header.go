// Package xmatrix signs and verifies the X-Matrix Authorization header of
// server-server requests (server-server-api "Request Authentication").
package xmatrix

import (
	"errors"
	"fmt"
	"strings"
)

// Params are the authorisation parameters of an X-Matrix header.
type Params struct {
	Origin      string
	Destination string // empty if the sender predates v1.3
	Key         string
	Sig         string
}

// ErrMalformed: the header is not an X-Matrix header we can read.
var ErrMalformed = errors.New("malformed X-Matrix authorization")

// Format writes the header the way the spec asks senders to for
// compatibility: one space after the scheme, lower-case names, quoted
// values, no whitespace around commas.
func (p Params) Format() string {
	return fmt.Sprintf(`X-Matrix origin="%s",destination="%s",key="%s",sig="%s"`,
		quote(p.Origin), quote(p.Destination), quote(p.Key), quote(p.Sig))
}

func quote(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

// Parse reads an Authorization header per RFC 9110 section 11.4: the scheme
// (case-insensitive), one or more spaces, then comma-separated name=value
// pairs with optional whitespace around commas; values are tokens or quoted
// strings with backslash escapes. Colons are accepted in unquoted values for
// older servers. Names are case-insensitive; unknown ones are ignored.
func Parse(header string) (Params, error) {
	scheme, rest, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "X-Matrix") {
		return Params{}, fmt.Errorf("%w: scheme is not X-Matrix", ErrMalformed)
	}
	var p Params
	s := rest
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			break
		}
		name, value, tail, err := param(s)
		if err != nil {
			return Params{}, err
		}
		switch strings.ToLower(name) {
		case "origin":
			p.Origin = value
		case "destination":
			p.Destination = value
		case "key":
			p.Key = value
		case "sig":
			p.Sig = value
		}
		s = strings.TrimLeft(tail, " \t")
		if s == "" {
			break
		}
		if s[0] != ',' {
			return Params{}, fmt.Errorf("%w: expected ',' after %s", ErrMalformed, name)
		}
		s = s[1:]
	}
	if p.Origin == "" || p.Key == "" || p.Sig == "" {
		return Params{}, fmt.Errorf("%w: origin, key and sig are required", ErrMalformed)
	}
	return p, nil
}

// param reads one name=value pair and returns what follows it.
func param(s string) (name, value, tail string, err error) {
	eq := strings.IndexByte(s, '=')
	if eq <= 0 {
		return "", "", "", fmt.Errorf("%w: parameter without '='", ErrMalformed)
	}
	name = strings.TrimRight(s[:eq], " \t")
	s = strings.TrimLeft(s[eq+1:], " \t")
	if !strings.HasPrefix(s, `"`) {
		end := strings.IndexAny(s, ", \t")
		if end < 0 {
			end = len(s)
		}
		return name, s[:end], s[end:], nil
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 >= len(s) {
				return "", "", "", fmt.Errorf("%w: dangling escape", ErrMalformed)
			}
			i++
			b.WriteByte(s[i])
		case '"':
			return name, b.String(), s[i+1:], nil
		default:
			b.WriteByte(c)
		}
	}
	return "", "", "", fmt.Errorf("%w: unterminated quoted value", ErrMalformed)
}
