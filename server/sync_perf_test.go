package main

import (
	"context"
	"fmt"
	"net/url"
	"testing"

	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/models/spec"
)

// TestInitialSyncManyRooms: an initial sync of a user in more rooms than
// minParallelRooms is built several rooms at a time (clientapi/sync
// rooms_parallel.go); every room must still come with its timeline, state
// and unread counts from the one-query batch (a room read up to its last
// message counts zero), with and without a lazy-loading filter.
func TestInitialSyncManyRooms(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		alice := registerClient(t, ts, "alice")
		registerClient(t, ts, "peer")
		svc, peer := ts.srv.rooms, spec.UserID("@peer:kabar.test")
		const n = 20
		ids := make([]string, n)
		var lastEvent string
		for i := range ids {
			id, err := svc.CreateRoom(ctx, rooms.CreateRequest{Creator: spec.UserID(alice.UserID), Preset: "public_chat",
				CreationContent: map[string]any{"nonce": i}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Membership(ctx, id, peer, peer, "join", "", nil); err != nil {
				t.Fatal(err)
			}
			sent, err := svc.Send(ctx, id, rooms.Proto{Type: "m.room.message", Sender: string(peer),
				Content: map[string]any{"msgtype": "m.text", "body": fmt.Sprint("msg ", i)}}, rooms.Txn{})
			if err != nil {
				t.Fatal(err)
			}
			ids[i], lastEvent = string(id), sent.EventID
		}
		// Alice read the last room up to its message.
		receipt := "/_matrix/client/v3/rooms/" + url.PathEscape(ids[n-1]) + "/receipt/m.read/" + url.PathEscape(lastEvent)
		if st := jsonDo(t, ts, "POST", receipt, alice.AccessToken, `{}`, nil); st != 200 {
			t.Fatalf("receipt: %d", st)
		}
		for _, filter := range []string{"", `{"room":{"timeline":{"limit":5},"state":{"lazy_load_members":true}}}`} {
			var resp struct {
				Rooms struct {
					Join map[string]struct {
						Timeline struct {
							Events []struct {
								Type    string         `json:"type"`
								Content map[string]any `json:"content"`
							} `json:"events"`
						} `json:"timeline"`
						Unread struct {
							N int64 `json:"notification_count"`
						} `json:"unread_notifications"`
					} `json:"join"`
				} `json:"rooms"`
			}
			if st := jsonDo(t, ts, "GET", "/_matrix/client/v3/sync?filter="+url.QueryEscape(filter), alice.AccessToken, "", &resp); st != 200 {
				t.Fatalf("sync: %d", st)
			}
			if len(resp.Rooms.Join) != n {
				t.Fatalf("filter %q: %d joined rooms, want %d", filter, len(resp.Rooms.Join), n)
			}
			for i, id := range ids {
				jr := resp.Rooms.Join[id]
				evs := jr.Timeline.Events
				if len(evs) == 0 || evs[len(evs)-1].Content["body"] != fmt.Sprint("msg ", i) {
					t.Errorf("filter %q, room %d: timeline %+v", filter, i, evs)
				}
				want := int64(1)
				if i == n-1 {
					want = 0
				}
				if jr.Unread.N != want {
					t.Errorf("filter %q, room %d: notification_count %d, want %d", filter, i, jr.Unread.N, want)
				}
			}
		}
	})
}
