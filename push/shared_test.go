package push

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestDefaultsUserDependence pins the premise of Shared: the predefined
// rules of two users differ only in .m.rule.invite_for_me and
// .m.rule.is_user_mention, and none reads the display name.
func TestDefaultsUserDependence(t *testing.T) {
	a, b := Defaults("@a:x"), Defaults("@b:x")
	for _, kind := range Kinds {
		ra, rb := *a.Kind(kind), *b.Kind(kind)
		for i := range ra {
			for _, c := range ra[i].Conditions {
				if c.Kind == "contains_display_name" {
					t.Errorf("%s reads the display name: Shared must evaluate it per user", ra[i].RuleID)
				}
			}
			ja, _ := json.Marshal(ra[i])
			jb, _ := json.Marshal(rb[i])
			differs := string(ja) != string(jb)
			personal := ra[i].RuleID == ".m.rule.invite_for_me" || ra[i].RuleID == ".m.rule.is_user_mention"
			if differs != personal {
				t.Errorf("%s: differs per user %v, Shared assumes %v", ra[i].RuleID, differs, personal)
			}
		}
	}
}

// TestSharedMatchesPerUser checks Shared against a full per-user run of
// Defaults for every user and event of a mixed set.
func TestSharedMatchesPerUser(t *testing.T) {
	ev := &Evaluator{}
	events := []string{
		`{"type":"m.room.message","sender":"@b:x","content":{"body":"hi @a:x"}}`,
		`{"type":"m.room.message","sender":"@b:x","content":{"msgtype":"m.notice","body":"n","m.mentions":{"user_ids":["@a:x"]}}}`,
		`{"type":"m.room.message","sender":"@b:x","content":{"body":"a","m.mentions":{"user_ids":["@a:x","@A:x",3,null]}}}`,
		`{"type":"m.room.message","sender":"@b:x","content":{"body":"a","m.mentions":{"room":true}}}`,
		`{"type":"m.room.message","sender":"@b:x","content":{"body":"a","m.mentions":{"user_ids":"@a:x"}}}`,
		`{"type":"m.room.member","sender":"@b:x","state_key":"@a:x","content":{"membership":"invite"}}`,
		`{"type":"m.room.member","sender":"@b:x","state_key":"@a:x","content":{"membership":"invite","msgtype":"m.notice"}}`,
		`{"type":"m.room.member","sender":"@b:x","state_key":"@a:x","content":{"membership":"join"}}`,
		`{"type":"m.room.member","sender":"@b:x","state_key":"@a:x","content":{"membership":"join","m.mentions":{"user_ids":["@c:x"]}}}`,
		`{"type":"m.room.member","sender":"@b:x","state_key":"@a:x","content":{"membership":"invite","m.mentions":{"user_ids":["@c:x"]}}}`,
		`{"type":"m.room.member","sender":"@b:x","state_key":"","content":{"membership":"invite"}}`,
		`{"type":"m.room.member","sender":"@b:x","state_key":"\u0000","content":{"membership":"invite","m.mentions":{"user_ids":["\u0000\u0000"]}}}`,
		`{"type":"m.room.member","sender":"@b:x","state_key":7,"content":{"membership":"invite"}}`,
		`{"type":"m.room.tombstone","sender":"@b:x","state_key":"","content":{}}`,
		`{"type":"m.room.encrypted","sender":"@b:x","content":{}}`,
		`{"type":"m.reaction","sender":"@b:x","content":{"m.mentions":{"user_ids":["@a:x"]}}}`,
	}
	users := []string{"@a:x", "@A:x", "@c:x", "@d:y", "", "\x00", "\x00\x00", "@b:x"}
	for _, raw := range events {
		e, err := ParseEvent([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		for _, members := range []int64{2, 50} {
			c := Context{MemberCount: members, SenderPower: 50, NotificationLevel: func(string) int64 { return 50 }}
			sh := ev.Shared(e, c)
			exact := map[string]bool{}
			for _, u := range sh.NamedExactly() {
				exact[u] = true
			}
			gid, gact := sh.Generic()
			for _, u := range users {
				rs := Defaults(u)
				uc := c
				uc.UserID, uc.DisplayName = u, "a"
				wid, want := ev.Evaluate(&rs, e, uc)
				gotID, got := sh.For(u)
				if gotID != wid || !reflect.DeepEqual(got, want) {
					t.Errorf("%s for %q: Shared %q %+v, per user %q %+v", raw, u, gotID, got, wid, want)
				}
				// The caller skips users neither named exactly nor (when
				// fold matters) named in any case: they must be generic.
				if !exact[u] && (!sh.FoldMatters() || !sh.Named(u)) && (wid != gid || !reflect.DeepEqual(want, gact)) {
					t.Errorf("%s for %q: not a candidate yet %q, generic %q", raw, u, wid, gid)
				}
			}
		}
	}
}
