package push

import (
	"encoding/json"
	"math"
	"testing"
)

func TestDefaultsOrder(t *testing.T) {
	rs := Defaults("@a:x")
	want := map[string][]string{
		KindOverride: {".m.rule.master", ".m.rule.suppress_notices", ".m.rule.invite_for_me", ".m.rule.member_event",
			".m.rule.is_user_mention", ".m.rule.is_room_mention", ".m.rule.tombstone", ".m.rule.reaction",
			".m.rule.room.server_acl", ".m.rule.suppress_edits"},
		KindUnderride: {".m.rule.call", ".m.rule.encrypted_room_one_to_one", ".m.rule.room_one_to_one", ".m.rule.message", ".m.rule.encrypted"},
	}
	for kind, ids := range want {
		got := *rs.Kind(kind)
		if len(got) != len(ids) {
			t.Fatalf("%s: %d rules, want %d", kind, len(got), len(ids))
		}
		for i, id := range ids {
			if got[i].RuleID != id || !got[i].Default {
				t.Errorf("%s[%d] = %s, want %s", kind, i, got[i].RuleID, id)
			}
		}
	}
}

func TestEvaluateDefaults(t *testing.T) {
	ev := &Evaluator{}
	pl := func(string) int64 { return 50 }
	cases := []struct {
		name      string
		event     string
		members   int64
		power     int64
		rule      string
		notify    bool
		highlight bool
	}{
		{"dm message", `{"type":"m.room.message","sender":"@b:x","content":{"body":"hi"}}`, 2, 0, ".m.rule.room_one_to_one", true, false},
		{"group message", `{"type":"m.room.message","sender":"@b:x","content":{"body":"hi"}}`, 5, 0, ".m.rule.message", true, false},
		{"notice", `{"type":"m.room.message","sender":"@b:x","content":{"msgtype":"m.notice","body":"hi"}}`, 2, 0, ".m.rule.suppress_notices", false, false},
		{"user mention", `{"type":"m.room.message","sender":"@b:x","content":{"body":"a","m.mentions":{"user_ids":["@a:x"]}}}`, 5, 0, ".m.rule.is_user_mention", true, true},
		{"other mention", `{"type":"m.room.message","sender":"@b:x","content":{"body":"a","m.mentions":{"user_ids":["@c:x"]}}}`, 5, 0, ".m.rule.message", true, false},
		{"room mention allowed", `{"type":"m.room.message","sender":"@b:x","content":{"body":"a","m.mentions":{"room":true}}}`, 5, 50, ".m.rule.is_room_mention", true, true},
		{"room mention by a v12 creator", `{"type":"m.room.message","sender":"@b:x","content":{"body":"a","m.mentions":{"room":true}}}`, 5, math.MaxInt64, ".m.rule.is_room_mention", true, true},
		{"room mention no power", `{"type":"m.room.message","sender":"@b:x","content":{"body":"a","m.mentions":{"room":true}}}`, 5, 0, ".m.rule.message", true, false},
		{"room mention string", `{"type":"m.room.message","sender":"@b:x","content":{"body":"a","m.mentions":{"room":"true"}}}`, 5, 50, ".m.rule.message", true, false},
		{"invite for me", `{"type":"m.room.member","sender":"@b:x","state_key":"@a:x","content":{"membership":"invite"}}`, 5, 0, ".m.rule.invite_for_me", true, false},
		{"other member", `{"type":"m.room.member","sender":"@b:x","state_key":"@c:x","content":{"membership":"join"}}`, 5, 0, ".m.rule.member_event", false, false},
		{"edit", `{"type":"m.room.message","sender":"@b:x","content":{"body":"a","m.relates_to":{"rel_type":"m.replace"}}}`, 2, 0, ".m.rule.suppress_edits", false, false},
		{"reaction", `{"type":"m.reaction","sender":"@b:x","content":{}}`, 2, 0, ".m.rule.reaction", false, false},
		{"tombstone", `{"type":"m.room.tombstone","sender":"@b:x","state_key":"","content":{}}`, 5, 0, ".m.rule.tombstone", true, true},
		{"encrypted dm", `{"type":"m.room.encrypted","sender":"@b:x","content":{}}`, 2, 0, ".m.rule.encrypted_room_one_to_one", true, false},
		{"encrypted group", `{"type":"m.room.encrypted","sender":"@b:x","content":{}}`, 3, 0, ".m.rule.encrypted", true, false},
		{"call", `{"type":"m.call.invite","sender":"@b:x","content":{}}`, 3, 0, ".m.rule.call", true, false},
		{"topic", `{"type":"m.room.topic","sender":"@b:x","state_key":"","content":{}}`, 3, 0, "", false, false},
	}
	rs := Defaults("@a:x")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, err := ParseEvent([]byte(tc.event))
			if err != nil {
				t.Fatal(err)
			}
			id, act := ev.Evaluate(&rs, e, Context{UserID: "@a:x", MemberCount: tc.members, SenderPower: tc.power, NotificationLevel: pl})
			if id != tc.rule || act.Notify != tc.notify || act.Highlight != tc.highlight {
				t.Errorf("got %q notify=%v highlight=%v, want %q %v %v", id, act.Notify, act.Highlight, tc.rule, tc.notify, tc.highlight)
			}
		})
	}
}

func TestConditions(t *testing.T) {
	ev := &Evaluator{}
	e, _ := ParseEvent([]byte(`{"type":"m.room.topic","sender":"@b:x","content":{"topic":"Lunch plans","body":"An example event.","m.federate":true,"n":3,"nil":null,"a.b":{"c":"dot"},"list":["#x:y",1,true]}}`))
	s := func(v string) *string { return &v }
	cases := []struct {
		name string
		c    Condition
		ctx  Context
		want bool
	}{
		{"glob full", Condition{Kind: "event_match", Key: "content.topic", Pattern: s("lunc?*")}, Context{}, true},
		{"glob case", Condition{Kind: "event_match", Key: "content.topic", Pattern: s("LUNCH PLANS")}, Context{}, true},
		{"glob not prefix", Condition{Kind: "event_match", Key: "content.topic", Pattern: s("lunch")}, Context{}, false},
		{"body words", Condition{Kind: "event_match", Key: "content.body", Pattern: s("ex*ple")}, Context{}, true},
		{"body not mid-word", Condition{Kind: "event_match", Key: "content.body", Pattern: s("xampl")}, Context{}, false},
		{"missing key", Condition{Kind: "event_match", Key: "content.nope", Pattern: s("*")}, Context{}, false},
		{"non-string", Condition{Kind: "event_match", Key: "content.n", Pattern: s("*")}, Context{}, false},
		{"escaped dot", Condition{Kind: "event_match", Key: `content.a\.b.c`, Pattern: s("dot")}, Context{}, true},
		{"is bool", Condition{Kind: "event_property_is", Key: `content.m\.federate`, Value: json.RawMessage(`true`)}, Context{}, true},
		{"is no cast", Condition{Kind: "event_property_is", Key: `content.m\.federate`, Value: json.RawMessage(`"true"`)}, Context{}, false},
		{"is int", Condition{Kind: "event_property_is", Key: "content.n", Value: json.RawMessage(`3`)}, Context{}, true},
		{"is null", Condition{Kind: "event_property_is", Key: "content.nil", Value: json.RawMessage(`null`)}, Context{}, true},
		{"contains", Condition{Kind: "event_property_contains", Key: "content.list", Value: json.RawMessage(`"#x:y"`)}, Context{}, true},
		{"contains partial", Condition{Kind: "event_property_contains", Key: "content.list", Value: json.RawMessage(`":y"`)}, Context{}, false},
		{"contains int", Condition{Kind: "event_property_contains", Key: "content.list", Value: json.RawMessage(`1`)}, Context{}, true},
		{"display name", Condition{Kind: "contains_display_name"}, Context{DisplayName: "example"}, true},
		{"display name absent", Condition{Kind: "contains_display_name"}, Context{DisplayName: "bob"}, false},
		{"count ==", Condition{Kind: "room_member_count", Is: "2"}, Context{MemberCount: 2}, true},
		{"count <", Condition{Kind: "room_member_count", Is: "<2"}, Context{MemberCount: 2}, false},
		{"count <=", Condition{Kind: "room_member_count", Is: "<=2"}, Context{MemberCount: 2}, true},
		{"count >", Condition{Kind: "room_member_count", Is: ">2"}, Context{MemberCount: 3}, true},
		{"count >=", Condition{Kind: "room_member_count", Is: ">=4"}, Context{MemberCount: 3}, false},
		{"count bad", Condition{Kind: "room_member_count", Is: "x"}, Context{MemberCount: 3}, false},
		{"unknown kind", Condition{Kind: "org.example.nope"}, Context{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ev.conditionHolds(tc.c, e, tc.ctx); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestContentRule(t *testing.T) {
	ev := &Evaluator{}
	p := "tea"
	rs := Defaults("@a:x")
	rs.Content = []Rule{{RuleID: "tea", Enabled: true, Pattern: &p, Actions: []json.RawMessage{actNotify, actHighlight}}}
	e, _ := ParseEvent([]byte(`{"type":"m.room.message","sender":"@b:x","content":{"body":"time for TEA!"}}`))
	if id, act := ev.Evaluate(&rs, e, Context{MemberCount: 5}); id != "tea" || !act.Highlight {
		t.Errorf("got %q %+v", id, act)
	}
}
