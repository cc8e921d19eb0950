package main

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"testing"

	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// TestFederationBackfill: alice@hs1 writes 30 messages, then bob@hs2
// joins; paging /messages backwards, hs2 backfills the history from hs1
// (server-server-api "Backfilling and retrieving missing events") and bob
// sees all 30 in order, without gaps or duplicates, down to the room's
// creation. Paging again fetches nothing more.
func TestFederationBackfill(t *testing.T) {
	for _, db := range storetest.URLs(t) {
		t.Run("backfilling on "+db.Name, func(t *testing.T) { testBackfill(t, db.URL) })
	}
}

func testBackfill(t *testing.T, hs2DB string) {
	ca := newTestCA(t)
	hs1 := startFedServer(t, ca, "127.0.0.2", storetest.URLs(t)[0].URL)
	hs2 := startFedServer(t, ca, "127.0.0.3", hs2DB)
	alice := hs1.register(t, "alice", "password-alice")
	bob := hs2.register(t, "bob", "password-bob")
	room := hs1.call(t, "POST", "/_matrix/client/v3/createRoom", alice, `{"preset":"public_chat"}`, 200)["room_id"].(string)
	r := &sharedRoom{hs1: hs1, hs2: hs2, ca: ca, room: room, alice: alice, bob: bob}
	var want []string
	for i := range 30 {
		r.send(t, hs1, alice, fmt.Sprintf("m%02d", i), fmt.Sprintf("t%d", i))
		want = append(want, fmt.Sprintf("m%02d", i))
	}
	slices.Reverse(want)
	hs2.call(t, "POST", "/_matrix/client/v3/join/"+url.PathEscape(room)+"?via="+url.QueryEscape(hs1.ServerName), bob, `{}`, 200)

	page := func() ([]string, bool) {
		var bodies []string
		sawCreate := false
		from := ""
		for range 50 {
			q := "/_matrix/client/v3/rooms/" + url.PathEscape(room) + "/messages?dir=b&limit=7"
			if from != "" {
				q += "&from=" + url.QueryEscape(from)
			}
			resp := hs2.call(t, "GET", q, bob, "", 200)
			for _, e := range resp["chunk"].([]any) {
				ev := e.(map[string]any)
				switch ev["type"] {
				case "m.room.message":
					bodies = append(bodies, ev["content"].(map[string]any)["body"].(string))
				case "m.room.create":
					sawCreate = true
				}
			}
			end, _ := resp["end"].(string)
			if end == "" {
				return bodies, sawCreate
			}
			from = end
		}
		t.Fatal("pagination did not end")
		return nil, false
	}
	for _, pass := range []string{"backfilling", "again"} {
		got, sawCreate := page()
		if !slices.Equal(got, want) || !sawCreate {
			t.Fatalf("%s: messages %v (create seen %v), want %v", pass, got, sawCreate, want)
		}
		ext, err := hs2.srv.rooms.BackwardExtremity(context.Background(), spec.RoomID(room))
		if err != nil || len(ext) != 0 {
			t.Fatalf("%s: backward extremity %v %v, want none", pass, ext, err)
		}
	}
	// The history is not new: an initial /sync still shows the join last.
	low, err := hs2.srv.store.LowestStreamPos(context.Background())
	if err != nil || low >= 0 {
		t.Fatalf("backfilled events should have negative positions: %d %v", low, err)
	}
}
