package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kabarchat/kabar/models/store/storetest"
)

// call sends a client API request and decodes the JSON answer, failing the
// test on an unexpected status.
func (ts *testServer) call(t *testing.T, method, path, token, body string, want int) map[string]any {
	t.Helper()
	code, resp := ts.do(t, method, path, token, strings.NewReader(body))
	if code != want {
		t.Fatalf("%s %s: %d %s", method, path, code, resp)
	}
	var out map[string]any
	json.Unmarshal(resp, &out)
	return out
}

// waitEvent waits until the server has stored the event.
func waitEvent(t *testing.T, ts *testServer, eventID string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if row, err := ts.srv.store.EventByID(context.Background(), eventID); err == nil && !row.SoftFailed {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("event %s never arrived", eventID)
}

// sharedRoom is a room alice@hs1 created and bob@hs2 joined over federation.
type sharedRoom struct {
	hs1, hs2   *fedServer
	ca         *testCA
	room       string
	alice, bob string // access tokens
}

func newSharedRoom(t *testing.T, version string) *sharedRoom {
	t.Helper()
	ca := newTestCA(t)
	dbs := storetest.URLs(t)
	hs1 := startFedServer(t, ca, "127.0.0.2", dbs[len(dbs)-1].URL)
	hs2 := startFedServer(t, ca, "127.0.0.3", storetest.URLs(t)[0].URL)
	alice := hs1.register(t, "alice", "password-alice")
	bob := hs2.register(t, "bob", "password-bob")
	bobID := "@bob:" + hs2.ServerName

	room := hs1.call(t, "POST", "/_matrix/client/v3/createRoom", alice,
		`{"preset":"private_chat","room_version":"`+version+`"}`, 200)["room_id"].(string)
	hs1.call(t, "POST", "/_matrix/client/v3/rooms/"+url.PathEscape(room)+"/invite", alice, `{"user_id":"`+bobID+`"}`, 200)
	join := "/_matrix/client/v3/join/" + url.PathEscape(room) + "?via=" + url.QueryEscape(hs1.ServerName)
	hs2.call(t, "POST", join, bob, `{}`, 200)
	members, err := hs1.srv.store.MembersWith(context.Background(), room, "join")
	if err != nil || len(members) != 2 {
		t.Fatalf("hs1 members after the join: %v %v", members, err)
	}
	return &sharedRoom{hs1: hs1, hs2: hs2, ca: ca, room: room, alice: alice, bob: bob}
}

// send posts a text message and returns its event ID.
func (r *sharedRoom) send(t *testing.T, ts *fedServer, token, text, txn string) string {
	t.Helper()
	path := "/_matrix/client/v3/rooms/" + url.PathEscape(r.room) + "/send/m.room.message/" + txn
	return ts.call(t, "PUT", path, token, `{"msgtype":"m.text","body":"`+text+`"}`, 200)["event_id"].(string)
}

// TestFederationJoinAndChat: alice@hs1 creates a room and invites bob@hs2,
// bob joins through hs1 (make_join/send_join), and both exchange messages
// through the senders' queues and /send.
func TestFederationJoinAndChat(t *testing.T) {
	for _, version := range []string{"10", "12"} {
		t.Run("v"+version, func(t *testing.T) {
			r := newSharedRoom(t, version)
			waitEvent(t, r.hs2.testServer, r.send(t, r.hs1, r.alice, "hello bob", "a1"))
			waitEvent(t, r.hs1.testServer, r.send(t, r.hs2, r.bob, "hello alice", "b1"))
			// A burst in both directions arrives completely.
			var fromAlice, fromBob []string
			for i := range 20 {
				fromAlice = append(fromAlice, r.send(t, r.hs1, r.alice, "a", fmt.Sprintf("a-burst-%d", i)))
				fromBob = append(fromBob, r.send(t, r.hs2, r.bob, "b", fmt.Sprintf("b-burst-%d", i)))
			}
			for _, id := range fromAlice {
				waitEvent(t, r.hs2.testServer, id)
			}
			for _, id := range fromBob {
				waitEvent(t, r.hs1.testServer, id)
			}
			// bob leaves on his own server; hs1 learns it through /send.
			r.hs2.call(t, "POST", "/_matrix/client/v3/rooms/"+url.PathEscape(r.room)+"/leave", r.bob, `{}`, 200)
			deadline := time.Now().Add(10 * time.Second)
			for {
				row, _ := r.hs1.srv.store.CurrentStateRow(context.Background(), r.room, "m.room.member", "@bob:"+r.hs2.ServerName)
				if row.Membership == "leave" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("hs1 never saw bob leave (membership %q)", row.Membership)
				}
				time.Sleep(20 * time.Millisecond)
			}
			// Both servers agree on the room's current state.
			for _, key := range []string{"@alice:" + r.hs1.ServerName, "@bob:" + r.hs2.ServerName} {
				a, _ := r.hs1.srv.store.CurrentStateRow(context.Background(), r.room, "m.room.member", key)
				b, _ := r.hs2.srv.store.CurrentStateRow(context.Background(), r.room, "m.room.member", key)
				if a.EventID == "" || a.EventID != b.EventID {
					t.Errorf("member %s: hs1 has %q, hs2 has %q", key, a.EventID, b.EventID)
				}
			}
		})
	}
}

// TestFederationJoinByAlias: bob@hs2 joins a public room of hs1 by its alias
// (query/directory, then make_join/send_join through the named servers).
func TestFederationJoinByAlias(t *testing.T) {
	r := newSharedRoom(t, "12")
	pub := r.hs1.call(t, "POST", "/_matrix/client/v3/createRoom", r.alice,
		`{"preset":"public_chat","room_alias_name":"lobby"}`, 200)["room_id"].(string)
	alias := "#lobby:" + r.hs1.ServerName
	got := r.hs2.call(t, "POST", "/_matrix/client/v3/join/"+url.PathEscape(alias), r.bob, `{}`, 200)["room_id"]
	if got != pub {
		t.Fatalf("joined %v, want %s", got, pub)
	}
	code, _ := r.hs2.do(t, "POST", "/_matrix/client/v3/join/"+url.PathEscape("#nope:"+r.hs1.ServerName), r.bob, strings.NewReader(`{}`))
	if code != 404 {
		t.Errorf("unknown remote alias: %d, want 404", code)
	}
}
