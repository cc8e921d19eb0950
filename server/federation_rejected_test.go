package main

import (
	"context"
	"encoding/json"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/keys"
	"github.com/kabarchat/kabar/federation/xmatrix"
)

// TestFederationRejectedNotServed: an event hs2 stored as rejected (its
// sender is not in the room) is never served to hs2's clients by the
// endpoints that look events up by ID, even when an accepted event relates
// to it (server-server-api "Rejection").
func TestFederationRejectedNotServed(t *testing.T) {
	r := newSharedRoom(t, "10")
	ctx := context.Background()
	key1, err := keys.LoadOrCreate(filepath.Join(r.hs1.srv.cfg.DataDir, "signing.key"))
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, r.hs2.testServer, r.send(t, r.hs1, r.alice, "hello", "h1"))
	extr, _ := r.hs1.srv.store.ForwardExtremities(ctx, r.room)
	create, _ := r.hs1.srv.store.CurrentStateRow(ctx, r.room, "m.room.create", "")
	pl, _ := r.hs1.srv.store.CurrentStateRow(ctx, r.room, "m.room.power_levels", "")
	b := &event.Builder{RoomID: r.room, Sender: "@mallory:" + r.hs1.ServerName, Type: "m.room.message",
		Content: map[string]any{"msgtype": "m.text", "body": "let me in"}, PrevEvents: extr,
		AuthEvents: []string{create.EventID, pl.EventID}, Depth: 1000}
	bad, err := b.Build(event.LookupRoomVersion("10"), r.hs1.ServerName, key1.ID, key1.PrivateKey())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"origin": r.hs1.ServerName, "origin_server_ts": 1, "pdus": []json.RawMessage{bad.JSON()}})
	path := "/_matrix/federation/v1/send/rejected-1"
	auth, _ := xmatrix.Sign(key1, r.hs1.ServerName, r.hs2.ServerName, "PUT", path, body)
	if status, resp := fedRequest(t, r.ca, "PUT", "https://"+r.hs2.ServerName+path, auth, body); status != 200 {
		t.Fatalf("send: %d %v", status, resp)
	}
	if row, err := r.hs2.srv.store.EventByID(ctx, bad.EventID()); err != nil || !row.Rejected {
		t.Fatalf("the event was not stored rejected: %v %+v", err, row.Rejected)
	}
	// An accepted reaction to the rejected event.
	roomPath := "/_matrix/client/v3/rooms/" + url.PathEscape(r.room)
	react := r.hs1.call(t, "PUT", roomPath+"/send/m.reaction/r1", r.alice,
		`{"m.relates_to":{"rel_type":"m.annotation","event_id":"`+bad.EventID()+`","key":"x"}}`, 200)["event_id"].(string)
	waitEvent(t, r.hs2.testServer, react)

	id := url.PathEscape(bad.EventID())
	cases := []struct{ name, method, path, body string }{
		{"event by ID", "GET", roomPath + "/event/" + id, ""},
		{"context", "GET", roomPath + "/context/" + id, ""},
		{"relations", "GET", "/_matrix/client/v1/rooms/" + url.PathEscape(r.room) + "/relations/" + id, ""},
		{"relations by type", "GET", "/_matrix/client/v1/rooms/" + url.PathEscape(r.room) + "/relations/" + id + "/m.annotation", ""},
		{"receipt", "POST", roomPath + "/receipt/m.read/" + id, "{}"},
		{"report", "POST", roomPath + "/report/" + id, `{"reason":"x"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, resp := r.hs2.do(t, tc.method, tc.path, r.bob, strings.NewReader(tc.body))
			if code != 404 || !strings.Contains(string(resp), "M_NOT_FOUND") {
				t.Fatalf("%d %s, want 404 M_NOT_FOUND", code, resp)
			}
		})
	}
	// The reaction itself is served, without the rejected event's content.
	code, resp := r.hs2.do(t, "GET", roomPath+"/event/"+url.PathEscape(react), r.bob, nil)
	if code != 200 || strings.Contains(string(resp), "let me in") {
		t.Fatalf("reaction: %d %s", code, resp)
	}
}
