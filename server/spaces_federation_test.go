package main

import (
	"net/url"
	"strings"
	"testing"
)

// TestSpaceHierarchyFederation: bob@hs2's space holds the shared room
// (known to hs2), a public room of hs1 that hs2 has never seen (fetched
// with federation /hierarchy) and an invite-only room of hs1 (refused by
// hs1, so left out).
func TestSpaceHierarchyFederation(t *testing.T) {
	r := newSharedRoom(t, "12")
	create := func(ts *fedServer, token, body string) string {
		return ts.call(t, "POST", "/_matrix/client/v3/createRoom", token, body, 200)["room_id"].(string)
	}
	public := create(r.hs1, r.alice, `{"preset":"public_chat","name":"Remote lobby","creation_content":{"type":"m.space"}}`)
	inner := create(r.hs1, r.alice, `{"preset":"public_chat","name":"Inner"}`)
	hidden := create(r.hs1, r.alice, `{"preset":"private_chat","name":"Hidden"}`)
	space := create(r.hs2, r.bob, `{"preset":"public_chat","name":"Bob's space","creation_content":{"type":"m.space"}}`)
	link := func(ts *fedServer, token, parent, child, via string) {
		path := "/_matrix/client/v3/rooms/" + url.PathEscape(parent) + "/state/m.space.child/" + url.PathEscape(child)
		ts.call(t, "PUT", path, token, `{"via":["`+via+`"]}`, 200)
	}
	link(r.hs1, r.alice, public, inner, r.hs1.ServerName)
	link(r.hs2, r.bob, space, r.room, r.hs1.ServerName)
	link(r.hs2, r.bob, space, public, r.hs1.ServerName)
	link(r.hs2, r.bob, space, hidden, r.hs1.ServerName)
	names := map[string]string{space: "space", r.room: "shared", public: "public", inner: "inner", hidden: "hidden"}

	resp := r.hs2.call(t, "GET", "/_matrix/client/v1/rooms/"+url.PathEscape(space)+"/hierarchy", r.bob, "", 200)
	var got []string
	for _, room := range resp["rooms"].([]any) {
		m := room.(map[string]any)
		got = append(got, names[m["room_id"].(string)])
		if m["room_id"] == public && (m["name"] != "Remote lobby" || m["room_type"] != "m.space") {
			t.Errorf("remote summary %v", m)
		}
	}
	// Children come in origin_server_ts order: shared, public (and its
	// child inner), hidden (left out).
	if strings.Join(got, ",") != "space,shared,public,inner" {
		t.Fatalf("rooms %v", got)
	}

	fed := "https://" + r.hs1.ServerName + "/_matrix/federation/v1/hierarchy/"
	if status, body := fedRequest(t, r.ca, "GET", fed+url.PathEscape(public), "", nil); status != 401 || body["errcode"] != "M_UNAUTHORIZED" {
		t.Errorf("unsigned hierarchy request: %d %v", status, body)
	}
	if status, body := fedRequest(t, r.ca, "POST", fed+url.PathEscape(public), "", nil); status != 405 || body["errcode"] != "M_UNRECOGNIZED" {
		t.Errorf("wrong method: %d %v", status, body)
	}
}
