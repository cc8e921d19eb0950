package event

import (
	"encoding/json"
	"strconv"
	"testing"
)

// TestRedactionTable checks each version's redaction algorithm
// (rooms/fragments/v1-, v6-, v9-, v11-redactions and rooms/v8).
func TestRedactionTable(t *testing.T) {
	cases := []struct {
		name    string
		event   string
		wantOld string // wanted result up to and including version split-1
		split   int    // first version with wantNew
		wantNew string
	}{
		{"aliases kept until v6", `{"type":"m.room.aliases","content":{"aliases":["#a:x"],"x":1}}`,
			`{"content":{"aliases":["#a:x"]},"type":"m.room.aliases"}`, 6, `{"content":{},"type":"m.room.aliases"}`},
		{"join_rules allow from v8", `{"type":"m.room.join_rules","content":{"join_rule":"restricted","allow":[{"type":"m.room_membership"}],"x":1}}`,
			`{"content":{"join_rule":"restricted"},"type":"m.room.join_rules"}`, 8,
			`{"content":{"allow":[{"type":"m.room_membership"}],"join_rule":"restricted"},"type":"m.room.join_rules"}`},
		{"member join_authorised_via from v9", `{"type":"m.room.member","content":{"membership":"join","join_authorised_via_users_server":"@a:b","displayname":"x"}}`,
			`{"content":{"membership":"join"},"type":"m.room.member"}`, 9,
			`{"content":{"join_authorised_via_users_server":"@a:b","membership":"join"},"type":"m.room.member"}`},
		{"member third_party_invite.signed from v11", `{"type":"m.room.member","content":{"membership":"invite","third_party_invite":{"display_name":"d","signed":{"mxid":"@a:b"}}}}`,
			`{"content":{"membership":"invite"},"type":"m.room.member"}`, 11,
			`{"content":{"membership":"invite","third_party_invite":{"signed":{"mxid":"@a:b"}}},"type":"m.room.member"}`},
		{"create keeps all from v11", `{"type":"m.room.create","content":{"creator":"@a:b","room_version":"1","m.federate":false}}`,
			`{"content":{"creator":"@a:b"},"type":"m.room.create"}`, 11,
			`{"content":{"creator":"@a:b","m.federate":false,"room_version":"1"},"type":"m.room.create"}`},
		{"power_levels invite from v11", `{"type":"m.room.power_levels","content":{"ban":1,"events":{},"events_default":2,"invite":3,"kick":4,"redact":5,"state_default":6,"users":{},"users_default":7,"notifications":{"room":8}}}`,
			`{"content":{"ban":1,"events":{},"events_default":2,"kick":4,"redact":5,"state_default":6,"users":{},"users_default":7},"type":"m.room.power_levels"}`, 11,
			`{"content":{"ban":1,"events":{},"events_default":2,"invite":3,"kick":4,"redact":5,"state_default":6,"users":{},"users_default":7},"type":"m.room.power_levels"}`},
		{"redaction keeps redacts from v11", `{"type":"m.room.redaction","redacts":"$x","content":{"redacts":"$x","reason":"r"}}`,
			`{"content":{},"type":"m.room.redaction"}`, 11, `{"content":{"redacts":"$x"},"type":"m.room.redaction"}`},
		{"history_visibility always", `{"type":"m.room.history_visibility","content":{"history_visibility":"shared","x":1}}`,
			`{"content":{"history_visibility":"shared"},"type":"m.room.history_visibility"}`, 1, ``},
		{"message content emptied", `{"type":"m.room.message","content":{"body":"x"}}`,
			`{"content":{},"type":"m.room.message"}`, 1, ``},
		{"top-level keys", `{"type":"X","content":{},"event_id":"$e","room_id":"!r","sender":"@s:d","state_key":"","hashes":{"sha256":"h"},"signatures":{},"depth":1,"prev_events":[],"prev_state":[],"auth_events":[],"origin":"d","origin_server_ts":1,"membership":"join","unsigned":{"age":1},"foo":1}`,
			`{"auth_events":[],"content":{},"depth":1,"event_id":"$e","hashes":{"sha256":"h"},"membership":"join","origin":"d","origin_server_ts":1,"prev_events":[],"prev_state":[],"room_id":"!r","sender":"@s:d","signatures":{},"state_key":"","type":"X"}`, 11,
			`{"auth_events":[],"content":{},"depth":1,"event_id":"$e","hashes":{"sha256":"h"},"origin_server_ts":1,"prev_events":[],"room_id":"!r","sender":"@s:d","signatures":{},"state_key":"","type":"X"}`},
	}
	for _, tc := range cases {
		for _, id := range StableRoomVersions() {
			n, _ := strconv.Atoi(id)
			want := tc.wantOld
			if n >= tc.split && tc.wantNew != "" {
				want = tc.wantNew
			}
			got, err := RedactJSON(LookupRoomVersion(id), []byte(tc.event))
			if err != nil || string(got) != want {
				t.Errorf("%s, v%s:\n got  %s (%v)\n want %s", tc.name, id, got, err, want)
			}
		}
	}
}

// TestRedactedRedactsAccessor: v11+ reads redacts from content, so it
// survives redaction; before v11 the top-level key is removed.
func TestRedactedRedactsAccessor(t *testing.T) {
	for _, id := range []string{"10", "11"} {
		rv := LookupRoomVersion(id)
		b := Builder{RoomID: "!r:domain", Sender: "@a:domain", Type: "m.room.redaction",
			Redacts: "$target", Content: json.RawMessage(`{"reason":"spam"}`),
			PrevEvents: []string{"$p"}, AuthEvents: []string{"$a"}, Depth: 3, OriginServerTS: 1}
		ev, err := b.Build(rv, "domain", "ed25519:1", testKey(t))
		if err != nil {
			t.Fatal(err)
		}
		if ev.Redacts() != "$target" {
			t.Errorf("v%s Redacts() = %q", id, ev.Redacts())
		}
		red, err := ev.Redact()
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"10": "", "11": "$target"}[id]
		if red.Redacts() != want {
			t.Errorf("v%s redacted Redacts() = %q, want %q", id, red.Redacts(), want)
		}
	}
}
