package rooms

import (
	"context"
	"testing"

	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// TestTxnScopeAndStreamPos: a transaction ID is scoped per device and
// endpoint; each event gets its own stream position.
func TestTxnScopeAndStreamPos(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		svc := startService(t, st)
		roomID, err := svc.CreateRoom(ctx, CreateRequest{Creator: alice})
		if err != nil {
			t.Fatal(err)
		}
		send := Txn{DeviceID: "D", Scope: "/rooms/" + string(roomID) + "/send/m.room.message", ID: "t"}
		a, err := svc.Send(ctx, roomID, message(alice, "a"), send)
		if err != nil {
			t.Fatal(err)
		}
		other := send
		other.Scope = "/rooms/" + string(roomID) + "/send/m.other"
		b, err := svc.Send(ctx, roomID, message(alice, "b"), other)
		if err != nil || b.EventID == a.EventID {
			t.Fatalf("other endpoint reused the event: %v %v", b, err)
		}
		again, err := svc.Send(ctx, roomID, message(alice, "a"), send)
		if err != nil || again != a {
			t.Fatalf("retry = %+v %v, want %+v", again, err, a)
		}
		for _, s := range []Sent{a, b} {
			_, row, err := svc.Event(ctx, spec.EventID(s.EventID))
			if err != nil || row.StreamPos != s.StreamPos {
				t.Fatalf("stream pos of %s: row %d, returned %d (%v)", s.EventID, row.StreamPos, s.StreamPos, err)
			}
		}
	})
}

// TestCreateRoomAliasTakenLeavesNothing: the alias is written in the room's
// transaction, so a taken alias leaves no half-created room.
func TestCreateRoomAliasTakenLeavesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		svc := startService(t, st)
		if _, err := svc.CreateRoom(ctx, CreateRequest{Creator: alice, Alias: "#x:kabar.test"}); err != nil {
			t.Fatal(err)
		}
		before, _ := st.CountRowsForTest(ctx, "rooms")
		events, _ := st.CountRowsForTest(ctx, "events")
		_, err := svc.CreateRoom(ctx, CreateRequest{Creator: bob, Alias: "#x:kabar.test"})
		if errcode(err) != "M_ROOM_IN_USE" {
			t.Fatalf("err = %v", err)
		}
		after, _ := st.CountRowsForTest(ctx, "rooms")
		events2, _ := st.CountRowsForTest(ctx, "events")
		if after != before || events2 != events {
			t.Fatalf("rooms %d -> %d, events %d -> %d", before, after, events, events2)
		}
	})
}

// TestOldRoomVersionsAndRedactedReads: rooms of every stable version can be
// created and used, and a redacted event is served redacted.
func TestOldRoomVersionsAndRedactedReads(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		svc := startService(t, st)
		for _, v := range []string{"1", "2", "3", "6", "11", "12"} {
			roomID, err := svc.CreateRoom(ctx, CreateRequest{Creator: alice, Version: v, Name: "n", Invite: []spec.UserID{bob}})
			if err != nil {
				t.Fatalf("v%s: %v", v, err)
			}
			if _, err := svc.Membership(ctx, roomID, bob, bob, "join", "", nil); err != nil {
				t.Fatalf("v%s join: %v", v, err)
			}
			sent, err := svc.Send(ctx, roomID, message(bob, "secret"), Txn{})
			if err != nil {
				t.Fatalf("v%s send: %v", v, err)
			}
			if _, err := svc.Redact(ctx, roomID, bob, spec.EventID(sent.EventID), "", Txn{}); err != nil {
				t.Fatalf("v%s redact: %v", v, err)
			}
			ev, _, err := svc.Event(ctx, spec.EventID(sent.EventID))
			if err != nil || string(ev.Content()) != "{}" {
				t.Fatalf("v%s redacted content = %s, %v", v, ev.Content(), err)
			}
		}
		if _, err := svc.CreateRoom(ctx, CreateRequest{Creator: alice, Version: "99"}); errcode(err) != "M_UNSUPPORTED_ROOM_VERSION" {
			t.Fatalf("v99: %v", err)
		}
	})
}
