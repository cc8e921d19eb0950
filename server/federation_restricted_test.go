package main

import (
	"net/url"
	"strings"
	"testing"

	"github.com/kabarchat/kabar/models/store/storetest"
)

// TestFederationRestrictedJoin: bob@hs2 joins alice@hs1's restricted room
// (version 10) because he is joined to the room its allow list names; hs1
// authorises the join through alice and countersigns it (server-server-api
// "Restricted rooms"). carol@hs2, in no allowed room, is refused.
func TestFederationRestrictedJoin(t *testing.T) {
	for _, db := range storetest.URLs(t) {
		t.Run(db.Name, func(t *testing.T) {
			ca := newTestCA(t)
			hs1 := newRestartable(t, ca, "127.0.0.2", db.URL, nil)
			hs2 := newRestartable(t, ca, "127.0.0.3", storetest.URLs(t)[0].URL, nil)
			alice := hs1.register(t, "alice", "password-alice")
			bob := hs2.register(t, "bob", "password-bob")
			carol := hs2.register(t, "carol", "password-carol")
			bobID := "@bob:" + hs2.ServerName
			via := "?server_name=" + url.QueryEscape(hs1.ServerName)

			space := hs1.call(t, "POST", "/_matrix/client/v3/createRoom", alice,
				`{"preset":"public_chat"}`, 200)["room_id"].(string)
			hs2.call(t, "POST", "/_matrix/client/v3/join/"+url.PathEscape(space)+via, bob, `{}`, 200)
			waitMembership(t, hs1.testServer, space, bobID, "join")

			room := hs1.call(t, "POST", "/_matrix/client/v3/createRoom", alice, `{"room_version":"10",
				"initial_state":[{"type":"m.room.join_rules","state_key":"","content":{"join_rule":"restricted",
				"allow":[{"type":"m.room_membership","room_id":"`+space+`"}]}}]}`, 200)["room_id"].(string)
			joinPath := "/_matrix/client/v3/join/" + url.PathEscape(room) + via

			code, body := hs2.do(t, "POST", joinPath, carol, strings.NewReader(`{}`))
			if code != 403 || !strings.Contains(string(body), "M_FORBIDDEN") {
				t.Fatalf("carol's join: %d %s, want 403 M_FORBIDDEN", code, body)
			}

			hs2.call(t, "POST", joinPath, bob, `{}`, 200)
			waitMembership(t, hs1.testServer, room, bobID, "join")
			waitMembership(t, hs2.testServer, room, bobID, "join")
			member := hs1.call(t, "GET", "/_matrix/client/v3/rooms/"+url.PathEscape(room)+"/state/m.room.member/"+url.PathEscape(bobID), alice, ``, 200)
			if got := member["join_authorised_via_users_server"]; got != "@alice:"+hs1.ServerName {
				t.Errorf("join_authorised_via_users_server = %v, want alice", got)
			}
			msg := hs2.call(t, "PUT", "/_matrix/client/v3/rooms/"+url.PathEscape(room)+"/send/m.room.message/r1", bob,
				`{"msgtype":"m.text","body":"in through the space"}`, 200)["event_id"].(string)
			waitEvent(t, hs1.testServer, msg)
		})
	}
}
