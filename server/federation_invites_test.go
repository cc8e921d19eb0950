package main

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kabarchat/kabar/models/store/storetest"
)

// syncResp is the part of a /sync answer these tests read.
type syncResp struct {
	NextBatch string `json:"next_batch"`
	Rooms     struct {
		Join   map[string]json.RawMessage `json:"join"`
		Leave  map[string]json.RawMessage `json:"leave"`
		Invite map[string]struct {
			InviteState struct {
				Events []struct {
					Type     string         `json:"type"`
					StateKey string         `json:"state_key"`
					Sender   string         `json:"sender"`
					Content  map[string]any `json:"content"`
				} `json:"events"`
			} `json:"invite_state"`
		} `json:"invite"`
	} `json:"rooms"`
}

func syncOnce(t *testing.T, ts *testServer, token, since string) syncResp {
	t.Helper()
	path := "/_matrix/client/v3/sync?timeout=0"
	if since != "" {
		path += "&since=" + url.QueryEscape(since)
	}
	code, body := ts.do(t, "GET", path, token, nil)
	if code != 200 {
		t.Fatalf("sync: %d %s", code, body)
	}
	var out syncResp
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// waitMembership waits until the server's current membership of user in
// room is want.
func waitMembership(t *testing.T, ts *testServer, room, user, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		m, _ := ts.srv.store.CurrentMembership(context.Background(), room, user)
		if m == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s in %s: membership %q, want %q", user, room, m, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFederationRemoteInvites: bob@hs2 is invited by alice@hs1 to a room
// hs2 is not in. He sees it in /sync with the room's stripped state,
// declines it (make_leave/send_leave through hs1), accepts a second one
// (the join finds hs1 from the invite: a v12 room ID names no server),
// leaves, is invited back and rejoins a room hs2 missed events of, and
// finally declines an invite while hs1 is down (a local out-of-band leave).
func TestFederationRemoteInvites(t *testing.T) {
	for _, db := range storetest.URLs(t) {
		t.Run(db.Name, func(t *testing.T) {
			ca := newTestCA(t)
			hs1 := newRestartable(t, ca, "127.0.0.2", db.URL, nil)
			hs2 := newRestartable(t, ca, "127.0.0.3", storetest.URLs(t)[0].URL, nil)
			alice := hs1.register(t, "alice", "password-alice")
			bob := hs2.register(t, "bob", "password-bob")
			bobID := "@bob:" + hs2.ServerName
			room := hs1.call(t, "POST", "/_matrix/client/v3/createRoom", alice,
				`{"preset":"private_chat","name":"Secret plans"}`, 200)["room_id"].(string)
			roomPath := "/_matrix/client/v3/rooms/" + url.PathEscape(room)
			invite := func() {
				hs1.call(t, "POST", roomPath+"/invite", alice, `{"user_id":"`+bobID+`"}`, 200)
			}
			since := syncOnce(t, hs2.testServer, bob, "").NextBatch

			invite()
			s := syncOnce(t, hs2.testServer, bob, since)
			inv, ok := s.Rooms.Invite[room]
			if !ok {
				t.Fatalf("no invite in bob's sync: %+v", s.Rooms)
			}
			var name, member string
			for _, e := range inv.InviteState.Events {
				switch {
				case e.Type == "m.room.name":
					name, _ = e.Content["name"].(string)
				case e.Type == "m.room.member" && e.StateKey == bobID:
					member, _ = e.Content["membership"].(string)
				}
			}
			if name != "Secret plans" || member != "invite" {
				t.Fatalf("invite_state: name %q, membership %q: %+v", name, member, inv.InviteState.Events)
			}

			// Declined: hs1 learns it through send_leave; the invite leaves sync.
			hs2.call(t, "POST", roomPath+"/leave", bob, `{"reason":"not now"}`, 200)
			waitMembership(t, hs1.testServer, room, bobID, "leave")
			s = syncOnce(t, hs2.testServer, bob, s.NextBatch)
			if _, ok := s.Rooms.Leave[room]; !ok {
				t.Errorf("declined invite not in rooms.leave: %+v", s.Rooms)
			}
			if _, ok := syncOnce(t, hs2.testServer, bob, "").Rooms.Invite[room]; ok {
				t.Errorf("declined invite still in an initial sync")
			}

			// Accepted: no via, and the room ID names no server.
			invite()
			hs2.call(t, "POST", "/_matrix/client/v3/join/"+url.PathEscape(room), bob, `{}`, 200)
			waitMembership(t, hs1.testServer, room, bobID, "join")
			if _, ok := syncOnce(t, hs2.testServer, bob, "").Rooms.Join[room]; !ok {
				t.Errorf("joined room not in bob's sync")
			}

			// Left, missed a message, invited back: the rejoin goes through
			// hs1 again and the room continues from hs1's state.
			hs2.call(t, "POST", roomPath+"/leave", bob, `{}`, 200)
			waitMembership(t, hs1.testServer, room, bobID, "leave")
			missed := hs1.call(t, "PUT", roomPath+"/send/m.room.message/t1", alice, `{"msgtype":"m.text","body":"while away"}`, 200)["event_id"].(string)
			invite()
			hs2.call(t, "POST", roomPath+"/join", bob, `{}`, 200)
			waitMembership(t, hs1.testServer, room, bobID, "join")
			waitMembership(t, hs2.testServer, room, bobID, "join")
			back := hs1.call(t, "PUT", roomPath+"/send/m.room.message/t2", alice, `{"msgtype":"m.text","body":"welcome back"}`, 200)["event_id"].(string)
			waitEvent(t, hs2.testServer, back)
			if _, ok := syncOnce(t, hs2.testServer, bob, "").Rooms.Join[room]; !ok {
				t.Errorf("rejoined room not in bob's sync")
			}
			if _, err := hs2.srv.store.EventByID(context.Background(), missed); err == nil {
				t.Logf("hs2 also has the missed message")
			}
			hs2.call(t, "PUT", roomPath+"/send/m.room.message/t3", bob, `{"msgtype":"m.text","body":"thanks"}`, 200)

			// carol@hs2 is invited to a room hs2 takes part in: the invite is a
			// room event there, shown with the room's current state, and her
			// join is built on hs2's own copy of the room.
			carol := hs2.register(t, "carol", "password-carol")
			carolID := "@carol:" + hs2.ServerName
			hs1.call(t, "POST", roomPath+"/invite", alice, `{"user_id":"`+carolID+`"}`, 200)
			cs := syncOnce(t, hs2.testServer, carol, "")
			names := ""
			for _, e := range cs.Rooms.Invite[room].InviteState.Events {
				if e.Type == "m.room.name" {
					names, _ = e.Content["name"].(string)
				}
			}
			if names != "Secret plans" {
				t.Errorf("carol's invite_state: %+v", cs.Rooms.Invite[room])
			}
			hs2.call(t, "POST", roomPath+"/join", carol, `{}`, 200)
			waitMembership(t, hs1.testServer, room, carolID, "join")

			// Declined while hs1 is down: a local out-of-band leave.
			room2 := hs1.call(t, "POST", "/_matrix/client/v3/createRoom", alice, `{"preset":"private_chat","invite":["`+bobID+`"]}`, 200)["room_id"].(string)
			waitMembership(t, hs2.testServer, room2, bobID, "invite")
			hs1.stop()
			code, body := hs2.do(t, "POST", "/_matrix/client/v3/rooms/"+url.PathEscape(room2)+"/leave", bob, strings.NewReader(`{}`))
			if code != 200 {
				t.Fatalf("decline with hs1 down: %d %s", code, body)
			}
			s = syncOnce(t, hs2.testServer, bob, "")
			if _, ok := s.Rooms.Invite[room2]; ok {
				t.Errorf("invite still shown after the out-of-band leave")
			}
			// Leaving a room one is not invited to stays refused.
			code, _ = hs2.do(t, "POST", "/_matrix/client/v3/rooms/"+url.PathEscape(room2)+"/leave", bob, strings.NewReader(`{}`))
			if code != 403 {
				t.Errorf("second leave: %d, want 403", code)
			}
		})
	}
}
