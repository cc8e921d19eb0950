package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"testing"

	"github.com/kabarchat/kabar/federation/fedclient"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// knockSync is the rooms.knock part of a /sync answer.
type knockSync struct {
	Rooms struct {
		Knock map[string]struct {
			KnockState struct {
				Events []struct {
					Type     string         `json:"type"`
					StateKey string         `json:"state_key"`
					Content  map[string]any `json:"content"`
				} `json:"events"`
			} `json:"knock_state"`
		} `json:"knock"`
	} `json:"rooms"`
}

// TestFederationKnock: bob@hs2 knocks on alice@hs1's v10 room whose join
// rule is knock (server-server-api "Knocking upon a room": make_knock,
// send_knock through the room ID's server). hs1 records the knock, bob's
// /sync shows it under rooms.knock, alice invites him, he joins and her
// message reaches hs2. A second knock is withdrawn by leaving.
func TestFederationKnock(t *testing.T) {
	for _, db := range storetest.URLs(t) {
		t.Run(db.Name, func(t *testing.T) {
			ca := newTestCA(t)
			hs1 := newRestartable(t, ca, "127.0.0.2", db.URL, nil)
			hs2 := newRestartable(t, ca, "127.0.0.3", storetest.URLs(t)[0].URL, nil)
			alice := hs1.register(t, "alice", "password-alice")
			bob := hs2.register(t, "bob", "password-bob")
			bobID := "@bob:" + hs2.ServerName
			room := hs1.call(t, "POST", "/_matrix/client/v3/createRoom", alice,
				`{"preset":"private_chat","room_version":"10","name":"Knock first",
				"initial_state":[{"type":"m.room.join_rules","state_key":"","content":{"join_rule":"knock"}}]}`, 200)["room_id"].(string)
			roomPath := "/_matrix/client/v3/rooms/" + url.PathEscape(room)

			// A join without an invite is refused; a knock is let through.
			hs2.call(t, "POST", "/_matrix/client/v3/join/"+url.PathEscape(room), bob, `{}`, 403)
			hs2.call(t, "POST", "/_matrix/client/v3/knock/"+url.PathEscape(room), bob, `{"reason":"let me in"}`, 200)
			waitMembership(t, hs1.testServer, room, bobID, "knock")
			waitMembership(t, hs2.testServer, room, bobID, "knock")

			code, body := hs2.do(t, "GET", "/_matrix/client/v3/sync?timeout=0", bob, nil)
			if code != 200 {
				t.Fatalf("sync: %d %s", code, body)
			}
			var s knockSync
			if err := json.Unmarshal(body, &s); err != nil {
				t.Fatal(err)
			}
			// knock_state: hs1's stripped state (send_knock's knock_room_state)
			// and bob's knock.
			member, name := "", ""
			for _, e := range s.Rooms.Knock[room].KnockState.Events {
				switch {
				case e.Type == "m.room.member" && e.StateKey == bobID:
					member, _ = e.Content["membership"].(string)
				case e.Type == "m.room.name":
					name, _ = e.Content["name"].(string)
				}
			}
			if member != "knock" || name != "Knock first" {
				t.Errorf("rooms.knock: %s", body)
			}

			hs1.call(t, "POST", roomPath+"/invite", alice, `{"user_id":"`+bobID+`"}`, 200)
			waitMembership(t, hs2.testServer, room, bobID, "invite")
			hs2.call(t, "POST", roomPath+"/join", bob, `{}`, 200)
			waitMembership(t, hs1.testServer, room, bobID, "join")
			msg := hs1.call(t, "PUT", roomPath+"/send/m.room.message/k1", alice, `{"msgtype":"m.text","body":"welcome"}`, 200)["event_id"].(string)
			waitEvent(t, hs2.testServer, msg)

			// A room whose join rule is invite refuses the knock (auth rules).
			closed := hs1.call(t, "POST", "/_matrix/client/v3/createRoom", alice, `{"preset":"private_chat","room_version":"10"}`, 200)["room_id"].(string)
			hs2.call(t, "POST", "/_matrix/client/v3/knock/"+url.PathEscape(closed), bob, `{}`, 403)

			// A knock withdrawn by leaving goes through make_leave/send_leave.
			other := hs1.call(t, "POST", "/_matrix/client/v3/createRoom", alice, `{"preset":"private_chat","room_version":"10",
				"initial_state":[{"type":"m.room.join_rules","state_key":"","content":{"join_rule":"knock"}}]}`, 200)["room_id"].(string)
			hs2.call(t, "POST", "/_matrix/client/v3/knock/"+url.PathEscape(other), bob, `{}`, 200)
			waitMembership(t, hs1.testServer, other, bobID, "knock")
			hs2.call(t, "POST", "/_matrix/client/v3/rooms/"+url.PathEscape(other)+"/leave", bob, `{}`, 200)
			waitMembership(t, hs1.testServer, other, bobID, "leave")
			knockRefusals(t, hs1, hs2, room)
		})
	}
}

// knockRefusals asks hs1 (as hs2) for knock templates and knocks it must
// refuse (knocks.yaml).
func knockRefusals(t *testing.T, hs1, hs2 *restartable, room string) {
	ctx := context.Background()
	c := hs2.srv.fed.client
	mk := "/_matrix/federation/v1/make_knock/" + url.PathEscape(room) + "/"
	carol := url.PathEscape("@carol:" + hs2.ServerName)
	cases := []struct {
		name, method, path string
		body               any
		status             int
		errcode            string
	}{
		{"make_knock without ver", "GET", mk + carol, nil, 400, "M_INCOMPATIBLE_ROOM_VERSION"},
		{"make_knock without a shared version", "GET", mk + carol + "?ver=9", nil, 400, "M_INCOMPATIBLE_ROOM_VERSION"},
		{"make_knock for another server's user", "GET", mk + url.PathEscape("@carol:"+hs1.ServerName) + "?ver=10", nil, 403, "M_FORBIDDEN"},
		{"make_knock in an unknown room", "GET", "/_matrix/federation/v1/make_knock/" + url.PathEscape("!nope:"+hs1.ServerName) + "/" + carol + "?ver=10", nil, 404, "M_NOT_FOUND"},
		{"send_knock without an event", "PUT", "/_matrix/federation/v1/send_knock/" + url.PathEscape(room) + "/" + url.PathEscape("$x"), map[string]any{}, 400, "M_BAD_JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := c.Do(ctx, spec.ServerName(hs1.ServerName), tc.method, tc.path, tc.body, nil)
			var he *fedclient.HTTPError
			if !errors.As(err, &he) || he.Status != tc.status || he.Errcode != tc.errcode {
				t.Fatalf("got %v, want %d %s", err, tc.status, tc.errcode)
			}
		})
	}
}
