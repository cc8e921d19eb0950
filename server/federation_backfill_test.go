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
	var want, ids []string
	for i := range 30 {
		ids = append(ids, r.send(t, hs1, alice, fmt.Sprintf("m%02d", i), fmt.Sprintf("t%d", i)))
		want = append(want, fmt.Sprintf("m%02d", i))
	}
	// Thread replies, of a type the pagination below skips: three to m05,
	// one each to m10 and m15, interleaved so m05 has the latest activity.
	th := backfillThreads{root: ids[5]}
	for i, parent := range []string{ids[5], ids[10], ids[5], ids[15], ids[5]} {
		id := hs1.call(t, "PUT", "/_matrix/client/v3/rooms/"+url.PathEscape(room)+"/send/org.kabar.test/th"+
			fmt.Sprint(i), alice, `{"m.relates_to":{"rel_type":"m.thread","event_id":"`+parent+`"}}`, 200)["event_id"].(string)
		if parent == ids[5] {
			th.replies = append(th.replies, id)
		}
	}
	th.roots = []string{ids[5], ids[15], ids[10]}
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
	checkBackfilledReads(t, r, ids[5], th.replies[0])
	checkBackfilledPages(t, r, th)
}

// checkBackfilledReads: the read endpoints that ask about the room's
// timeline (not about what is new to /sync) see backfilled events on hs2
// like live ones: /timestamp_to_event, /context, /relations, /threads.
func checkBackfilledReads(t *testing.T, r *sharedRoom, root, reply string) {
	t.Helper()
	base := "/_matrix/client/v1/rooms/" + url.PathEscape(r.room)
	v3 := "/_matrix/client/v3/rooms/" + url.PathEscape(r.room)
	first := r.hs1.call(t, "GET", base+"/timestamp_to_event?ts=0&dir=f", r.alice, "", 200)["event_id"]
	contains := func(resp map[string]any, key, id string) bool {
		list, _ := resp[key].([]any)
		for _, e := range list {
			if e.(map[string]any)["event_id"] == id {
				return true
			}
		}
		return false
	}
	cases := []struct {
		name  string
		path  string
		check func(map[string]any) bool
	}{
		{"timestamp_to_event finds the backfilled create event", base + "/timestamp_to_event?ts=0&dir=f",
			func(m map[string]any) bool { return m["event_id"] == first }},
		{"context around a backfilled event", v3 + "/context/" + url.PathEscape(root) + "?limit=4",
			func(m map[string]any) bool {
				ev, _ := m["event"].(map[string]any)
				before, _ := m["events_before"].([]any)
				after, _ := m["events_after"].([]any)
				return ev["event_id"] == root && len(before) == 2 && len(after) == 2
			}},
		{"relations of a backfilled event", base + "/relations/" + url.PathEscape(root),
			func(m map[string]any) bool { return contains(m, "chunk", reply) }},
		{"thread with a backfilled root", base + "/threads",
			func(m map[string]any) bool { return contains(m, "chunk", root) }},
	}
	for _, tc := range cases {
		if got := r.hs2.call(t, "GET", tc.path, r.bob, "", 200); !tc.check(got) {
			t.Errorf("%s: %v", tc.name, got)
		}
	}
}

// backfillThreads is what the backfilled history holds in threads: root's
// replies oldest first, and the thread roots by latest activity.
type backfillThreads struct {
	root           string
	replies, roots []string
}

// checkBackfilledPages: /relations and /threads page through backfilled
// events (negative stream positions) one at a time with the next_batch
// tokens they hand out, without a 400, gap or duplicate.
func checkBackfilledPages(t *testing.T, r *sharedRoom, th backfillThreads) {
	t.Helper()
	base := "/_matrix/client/v1/rooms/" + url.PathEscape(r.room)
	newestFirst := slices.Clone(th.replies)
	slices.Reverse(newestFirst)
	cases := []struct {
		name, path string
		want       []string
	}{
		{"relations backwards", base + "/relations/" + url.PathEscape(th.root) + "/m.thread?limit=1", newestFirst},
		{"relations forwards", base + "/relations/" + url.PathEscape(th.root) + "/m.thread?limit=1&dir=f", th.replies},
		{"threads", base + "/threads?limit=1", th.roots},
	}
	for _, tc := range cases {
		var got []string
		from := ""
		for range 10 {
			path := tc.path
			if from != "" {
				path += "&from=" + url.QueryEscape(from)
			}
			resp := r.hs2.call(t, "GET", path, r.bob, "", 200)
			for _, e := range resp["chunk"].([]any) {
				got = append(got, e.(map[string]any)["event_id"].(string))
			}
			if from, _ = resp["next_batch"].(string); from == "" {
				break
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: paged %v, want %v", tc.name, got, tc.want)
		}
	}
}
