package main

import (
	"net/url"
	"testing"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// TestFederationInviteEveryRoomVersion: for every room version Kabar
// supports, alice@hs1 creates a room and invites bob@hs2 (hs1's PUT
// /v2/invite, hs2's countersigning), bob accepts (make_join/send_join
// through hs1) and both servers see him joined, then a message of his
// reaches hs1; invited again after leaving, he declines (make_leave and
// send_leave through hs1). Room versions 1 and 2 carry the event ID inside the event
// (rooms/v1 "Event format"), the others derive it from the reference hash.
func TestFederationInviteEveryRoomVersion(t *testing.T) {
	for _, db := range storetest.URLs(t) {
		t.Run(db.Name, func(t *testing.T) {
			ca := newTestCA(t)
			hs1 := startFedServer(t, ca, "127.0.0.2", db.URL)
			hs2 := startFedServer(t, ca, "127.0.0.3", storetest.URLs(t)[0].URL)
			alice := hs1.register(t, "alice", "password-alice")
			bob := hs2.register(t, "bob", "password-bob")
			bobID := "@bob:" + hs2.ServerName
			for _, version := range event.StableRoomVersions() {
				t.Run("v"+version, func(t *testing.T) {
					room := hs1.call(t, "POST", "/_matrix/client/v3/createRoom", alice,
						`{"preset":"private_chat","room_version":"`+version+`"}`, 200)["room_id"].(string)
					roomPath := "/_matrix/client/v3/rooms/" + url.PathEscape(room)
					hs1.call(t, "POST", roomPath+"/invite", alice, `{"user_id":"`+bobID+`"}`, 200)
					waitMembership(t, hs2.testServer, room, bobID, "invite")
					if _, ok := syncOnce(t, hs2.testServer, bob, "").Rooms.Invite[room]; !ok {
						t.Fatalf("no invite in bob's sync")
					}
					hs2.call(t, "POST", "/_matrix/client/v3/join/"+url.PathEscape(room)+"?via="+url.QueryEscape(hs1.ServerName), bob, `{}`, 200)
					waitMembership(t, hs1.testServer, room, bobID, "join")
					waitMembership(t, hs2.testServer, room, bobID, "join")
					msg := hs2.call(t, "PUT", roomPath+"/send/m.room.message/v"+version, bob, `{"msgtype":"m.text","body":"hi"}`, 200)["event_id"].(string)
					waitEvent(t, hs1.testServer, msg)
					// bob leaves (hs2 is then out of the room), is invited
					// again and declines: make_leave/send_leave through hs1.
					hs2.call(t, "POST", roomPath+"/leave", bob, `{}`, 200)
					waitMembership(t, hs1.testServer, room, bobID, "leave")
					hs1.call(t, "POST", roomPath+"/invite", alice, `{"user_id":"`+bobID+`"}`, 200)
					waitMembership(t, hs2.testServer, room, bobID, "invite")
					hs2.call(t, "POST", roomPath+"/leave", bob, `{"reason":"no thanks"}`, 200)
					waitMembership(t, hs1.testServer, room, bobID, "leave")
				})
			}
		})
	}
}
