package spec

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDescribeJSONError(t *testing.T) {
	type inner struct {
		Limit int `json:"limit"`
	}
	type Embedded struct {
		Deep int `json:"deep"`
	}
	type withEmbed struct {
		Embedded
	}
	type outer struct {
		Room  inner     `json:"room"`
		Wrap  withEmbed `json:"wrap"`
		Names []string  `json:"names"`
		Ptr   *int      `json:"ptr"`
	}
	cases := []struct{ body, want string }{
		{`[]`, `filter must be a JSON object`},
		{`{"room":{"limit":"x"}}`, `filter: field "room.limit" has the wrong type: want number`},
		{`{"room":{"limit":1e400}}`, `filter: field "room.limit": number out of range or not an integer`},
		{`{"room":{"limit":1.5}}`, `filter: field "room.limit": number out of range or not an integer`},
		{`{"wrap":{"deep":"x"}}`, `filter: field "wrap.deep" has the wrong type: want number`},
		{`{"names":{}}`, `filter: field "names" has the wrong type: want array`},
		{`{"ptr":"x"}`, `filter: field "ptr" has the wrong type: want number`},
		{`{"room":`, `filter is not valid JSON (at byte 8)`},
		{`{x}`, `filter is not valid JSON (at byte 2)`},
	}
	for _, tc := range cases {
		var o outer
		err := json.Unmarshal([]byte(tc.body), &o)
		if err == nil {
			t.Fatalf("%s: no error", tc.body)
		}
		got := DescribeJSONError("filter", err)
		if got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.body, got, tc.want)
		}
		if strings.Contains(got, "Go") || strings.Contains(got, "json:") {
			t.Errorf("%s: leaks Go detail: %q", tc.body, got)
		}
	}
}
