package notifications

import (
	"context"
	"testing"

	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
	"github.com/kabarchat/kabar/models/store/storetest/roomtest"
)

// TestRoomMentionPower: an @room mention (.m.rule.is_room_mention) needs
// the sender's power level at notifications.room
// (sender_notification_permission). From room version 12 the creators,
// the create event's sender and additional_creators, have infinite power
// without being in the users map (rooms/v12.md); before it the creator is
// at the level the users map gives, and additional_creators mean nothing.
// What the worker records is what /sync's unread_notifications counts.
func TestRoomMentionPower(t *testing.T) {
	const (
		alice = "@alice:kabar.test" // creator
		bob   = "@bob:kabar.test"   // member at users_default 0
		carol = "@carol:kabar.test" // in additional_creators
		dave  = "@dave:kabar.test"  // member, only reads
	)
	cases := []struct {
		name, version string
		notifyRoom    int64 // notifications.room; 0: the default 50
		sender        string
		highlight     bool
	}{
		{name: "v12 creator", version: "12", sender: alice, highlight: true},
		{name: "v12 additional creator", version: "12", sender: carol, highlight: true},
		{name: "v12 member below notifications.room", version: "12", sender: bob},
		{name: "v12 creator above the highest level", version: "12", notifyRoom: 1<<53 - 1, sender: alice, highlight: true},
		{name: "v11 creator at 100", version: "11", sender: alice, highlight: true},
		{name: "v11 creator below notifications.room", version: "11", notifyRoom: 101, sender: alice},
		{name: "v11 additional_creators ignored", version: "11", sender: carol},
		{name: "v11 member below notifications.room", version: "11", sender: bob},
	}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		roomSvc := roomtest.Service(t, st)
		svc := newWorker(t, st, roomSvc)
		// newRoom creates the room and joins bob, carol and dave.
		newRoom := func(t *testing.T, req rooms.CreateRequest) spec.RoomID {
			t.Helper()
			roomID, err := roomSvc.CreateRoom(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range []string{bob, carol, dave} {
				if _, err := roomSvc.Membership(ctx, roomID, spec.UserID(u), spec.UserID(u), "join", "", nil); err != nil {
					t.Fatal(err)
				}
			}
			return roomID
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				req := rooms.CreateRequest{Creator: alice, Visibility: "public", Version: tc.version,
					CreationContent: map[string]any{"additional_creators": []any{carol}}}
				if tc.notifyRoom != 0 {
					req.PowerLevelOverride = map[string]any{"notifications": map[string]any{"room": tc.notifyRoom}}
				}
				roomID := newRoom(t, req)
				roomMention(t, svc, roomSvc, roomID, tc.sender)
				for _, u := range []string{alice, bob, carol, dave} {
					if u == tc.sender {
						continue
					}
					want := [2]int64{1, 0}
					if tc.highlight {
						want[1] = 1
					}
					n, h, err := svc.UnreadCounts(ctx, u, string(roomID))
					if err != nil {
						t.Fatal(err)
					}
					all, err := svc.UnreadCountsByRoom(ctx, u)
					if err != nil {
						t.Fatal(err)
					}
					if got := [2]int64{n, h}; got != want || all[string(roomID)] != want {
						t.Errorf("%s: unread %v (by room %v), want %v", u, got, all[string(roomID)], want)
					}
				}
			})
		}

		// A power levels change reloads the levels of a cached room
		// (roomcache.go): the creators keep their infinite power.
		t.Run("v12 after a power levels change", func(t *testing.T) {
			roomID := newRoom(t, rooms.CreateRequest{Creator: alice, Visibility: "public",
				CreationContent: map[string]any{"additional_creators": []any{carol}}})
			roomMention(t, svc, roomSvc, roomID, bob) // loads the room into the cache
			pl := map[string]any{"users": map[string]any{bob: int64(50)}, "notifications": map[string]any{"room": int64(50)}}
			if _, err := roomSvc.Send(ctx, roomID, rooms.Proto{Type: "m.room.power_levels", StateKey: ptr(""), Sender: alice, Content: pl}, rooms.Txn{}); err != nil {
				t.Fatal(err)
			}
			roomMention(t, svc, roomSvc, roomID, bob)
			roomMention(t, svc, roomSvc, roomID, carol)
			if _, h, err := svc.UnreadCounts(ctx, dave, string(roomID)); err != nil || h != 2 {
				t.Errorf("dave: %d highlights (%v), want 2: bob's at 50 and carol's as creator", h, err)
			}
		})
	})
}

// roomMention sends an @room mention from sender and has the worker
// record it.
func roomMention(t *testing.T, svc *Service, roomSvc *rooms.Service, roomID spec.RoomID, sender string) {
	t.Helper()
	content := map[string]any{"msgtype": "m.text", "body": "@room hi", "m.mentions": map[string]any{"room": true}}
	if _, err := roomSvc.Send(context.Background(), roomID, rooms.Proto{Type: "m.room.message", Sender: sender, Content: content}, rooms.Txn{}); err != nil {
		t.Fatal(err)
	}
	if err := svc.catchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
}
