package spec

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// DescribeJSONError turns an encoding/json decoding error about what (for
// example "request body" or "filter") into text for the client: the JSON
// field and the JSON kind it needs, never the Go type or struct names the
// raw error carries (DESIGN.md style rule 3).
func DescribeJSONError(what string, err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		want := jsonKind(typeErr.Type)
		field := jsonPath(typeErr.Field)
		switch {
		case want == "number" && strings.HasPrefix(typeErr.Value, "number"):
			if field == "" {
				return fmt.Sprintf("%s: number out of range or not an integer", what)
			}
			return fmt.Sprintf("%s: field %q: number out of range or not an integer", what, field)
		case field == "":
			return fmt.Sprintf("%s must be a JSON %s", what, want)
		}
		return fmt.Sprintf("%s: field %q has the wrong type: want %s", what, field, want)
	}
	var synErr *json.SyntaxError
	if errors.As(err, &synErr) {
		return fmt.Sprintf("%s is not valid JSON (at byte %d)", what, synErr.Offset)
	}
	return fmt.Sprintf("%s is not valid JSON", what)
}

// jsonPath drops the Go names of embedded structs that encoding/json puts
// into a field path ("room.timeline.EventFilter.limit"): a segment that
// looks like an exported Go identifier is not a Matrix JSON key, which are
// lower-case or start with a sigil.
func jsonPath(field string) string {
	if field == "" {
		return ""
	}
	parts := strings.Split(field, ".")
	kept := parts[:0]
	for _, p := range parts {
		if !goIdent(p) {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, ".")
}

func goIdent(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// jsonKind names the JSON kind a Go type decodes from.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "value"
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "value"
}
