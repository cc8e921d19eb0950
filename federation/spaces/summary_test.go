package spaces

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestChildrenOrder(t *testing.T) {
	st := func(room, content string, ts int64) ChildState {
		return ChildState{Type: "m.space.child", StateKey: room, Content: json.RawMessage(content), OriginServerTS: ts}
	}
	states := []ChildState{
		st("!late", `{"via":["a"]}`, 30),
		st("!early", `{"via":["a"]}`, 10),
		st("!tie-b", `{"via":["a"]}`, 20),
		st("!tie-a", `{"via":["a"]}`, 20),
		st("!order-z", `{"via":["a"],"order":"z"}`, 99),
		st("!order-a", `{"via":["a"],"order":"a","suggested":true}`, 99),
		st("!bad-order", `{"via":["a"],"order":"\u0001"}`, 5),
		st("!number-order", `{"via":["a"],"order":3}`, 6),
		st("!no-via", `{}`, 1),
		st("!empty-via", `{"via":[]}`, 1),
		st("!bad-json", `[`, 1),
		{Type: "m.space.parent", StateKey: "!parent", Content: json.RawMessage(`{"via":["a"]}`)},
	}
	cases := []struct {
		suggested bool
		want      string
	}{
		{false, "!order-a,!order-z,!bad-order,!number-order,!early,!tie-a,!tie-b,!late"},
		{true, "!order-a"},
	}
	for _, tc := range cases {
		var got []string
		for _, c := range children(states, tc.suggested) {
			got = append(got, c.roomID)
		}
		if strings.Join(got, ",") != tc.want {
			t.Errorf("suggested=%v: %v, want %s", tc.suggested, got, tc.want)
		}
	}
	if validOrder(strings.Repeat("a", 51)) || !validOrder(strings.Repeat("~", 50)) {
		t.Error("order length/charset bounds")
	}
}
