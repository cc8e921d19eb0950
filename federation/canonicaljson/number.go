package canonicaljson

import (
	"fmt"
	"strings"
)

// scaledInteger converts a number written with a fraction and/or exponent to
// an int64 when its exact decimal value is an integer in the canonical range,
// without going through float64 (which would silently round). The appendix's
// example canonicalizes 1e10 to 10000000000; 1.5 and 1e16 are refused.
func scaledInteger(neg bool, intDigits, fracDigits, expText string) (any, error) {
	mantissa := strings.TrimLeft(intDigits+fracDigits, "0")
	if mantissa == "" {
		return int64(0), nil // 0.0, 0e5, -0.0 are all zero; never -0
	}
	exp := parseExponent(expText) - len(fracDigits)
	for len(mantissa) > 1 && mantissa[len(mantissa)-1] == '0' {
		mantissa = mantissa[:len(mantissa)-1]
		exp++
	}
	bad := fmt.Errorf("%w: %s%s.%se%s", ErrNumber, sign(neg), intDigits, fracDigits, expText)
	if exp < 0 || len(mantissa)+exp > 16 {
		return nil, bad
	}
	n := parseDigits(mantissa)
	for range exp {
		n *= 10
	}
	if n > MaxSafeInteger {
		return nil, bad
	}
	if neg {
		n = -n
	}
	return n, nil
}

// parseExponent parses [+-]digits, saturating far beyond any exponent that
// could still yield an in-range integer.
func parseExponent(s string) int {
	if s == "" {
		return 0
	}
	neg := s[0] == '-'
	if s[0] == '+' || s[0] == '-' {
		s = s[1:]
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if n < 1_000_000 {
			n = n*10 + int(s[i]-'0')
		}
	}
	if neg {
		return -n
	}
	return n
}

func sign(neg bool) string {
	if neg {
		return "-"
	}
	return ""
}
