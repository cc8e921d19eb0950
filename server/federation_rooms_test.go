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

// TestFederationJoinAndChat: alice@hs1 creates a room and invites bob@hs2,
// bob joins through hs1 (make_join/send_join), and both exchange messages
// through the senders' queues and /send.
func TestFederationJoinAndChat(t *testing.T) {
	for _, version := range []string{"10", "12"} {
		t.Run("v"+version, func(t *testing.T) {
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

			send := func(ts *testServer, token, text, txn string) string {
				path := "/_matrix/client/v3/rooms/" + url.PathEscape(room) + "/send/m.room.message/" + txn
				return ts.call(t, "PUT", path, token, `{"msgtype":"m.text","body":"`+text+`"}`, 200)["event_id"].(string)
			}
			waitEvent(t, hs2.testServer, send(hs1.testServer, alice, "hello bob", "a1"))
			waitEvent(t, hs1.testServer, send(hs2.testServer, bob, "hello alice", "b1"))
			// A burst in both directions arrives completely.
			var fromAlice, fromBob []string
			for i := range 20 {
				fromAlice = append(fromAlice, send(hs1.testServer, alice, "a", "a-burst-"+string(rune('a'+i))))
				fromBob = append(fromBob, send(hs2.testServer, bob, "b", "b-burst-"+string(rune('a'+i))))
			}
			for _, id := range fromAlice {
				waitEvent(t, hs2.testServer, id)
			}
			for _, id := range fromBob {
				waitEvent(t, hs1.testServer, id)
			}
		})
	}
}
