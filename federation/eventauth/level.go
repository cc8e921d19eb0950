package eventauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/kabarchat/kabar/federation/event"
)

// maxSafeInteger bounds levels as canonical JSON bounds integers
// (appendices, "Canonical JSON"; m.room.power_levels schema note).
const maxSafeInteger = 1<<53 - 1

var (
	errNotInteger    = errors.New("not an integer")
	errStringLevel   = errors.New("string levels are not allowed in this room version")
	errOutOfRange    = errors.New("out of range")
	errFloatInStrict = errors.New("floats are not allowed in this room version")
)

// parseLevel reads one power level value for the room version.
func parseLevel(rv *event.RoomVersion, raw json.RawMessage) (int64, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0, errNotInteger
	}
	switch c := raw[0]; {
	case c == '"':
		if rv.IntegerPowerLevels {
			return 0, errStringLevel
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, errNotInteger
		}
		return parseStringLevel(s)
	case c == '-' || c >= '0' && c <= '9':
		return parseNumberLevel(rv, string(raw))
	default:
		return 0, errNotInteger
	}
}

// parseStringLevel accepts the legacy form: optional surrounding whitespace,
// one optional sign, base-10 digits (rooms/fragments/v1-stringy-power-levels.md).
func parseStringLevel(s string) (int64, error) {
	s = strings.TrimSpace(s)
	digits, sign := s, ""
	if s != "" && (s[0] == '+' || s[0] == '-') {
		digits, sign = s[1:], s[:1]
	}
	if digits == "" || strings.IndexFunc(digits, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return 0, errNotInteger
	}
	v, err := strconv.ParseInt(sign+digits, 10, 64)
	if err != nil || v > maxSafeInteger || v < -maxSafeInteger {
		return 0, errOutOfRange
	}
	return v, nil
}

// parseNumberLevel reads a JSON number; fractions and exponents are only
// valid (and truncated) where canonical JSON is not enforced
// (rooms/fragments/v1-floaty-power-levels.md).
func parseNumberLevel(rv *event.RoomVersion, s string) (int64, error) {
	if !strings.ContainsAny(s, ".eE") {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v > maxSafeInteger || v < -maxSafeInteger {
			return 0, errOutOfRange
		}
		return v, nil
	}
	if rv.StrictCanonicalJSON {
		return 0, errFloatInStrict
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, errOutOfRange
	}
	f = math.Trunc(f)
	if f > maxSafeInteger || f < -maxSafeInteger {
		return 0, errOutOfRange
	}
	return int64(f), nil
}
