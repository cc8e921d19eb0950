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
		field := typeErr.Field
		switch {
		case want == "number" && strings.HasPrefix(typeErr.Value, "number"):
			if field == "" {
				return fmt.Sprintf("%s: number out of range", what)
			}
			return fmt.Sprintf("%s: field %q: number out of range", what, field)
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
