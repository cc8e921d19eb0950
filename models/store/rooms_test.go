package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
)

func ptr(s string) *string { return &s }

// testEvent builds an event row; the JSON is a placeholder: the store treats
// it as opaque.
func testEvent(nid int64, room, typ string, stateKey *string, pos int64) models.Event {
	return models.Event{EventNID: nid, EventID: fmt.Sprintf("$e%d", nid), RoomID: room, Type: typ,
		StateKey: stateKey, Sender: "@alice:kabar.test", Depth: nid, OriginServerTS: 1000 * nid,
		StreamPos: pos, JSON: `{}`}
}

func TestWriteRoomAndQueries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		cache := store.NewStateCache(100)
		room := "!r:kabar.test"
		var snap int64
		err := s.Transaction(ctx, func(tx *store.Store) error {
			var err error
			snap, err = cache.Apply(ctx, tx, room, 0, []store.StateEntry{
				{StateKey: store.StateKey{Type: "m.room.create"}, EventNID: 1},
				{StateKey: store.StateKey{Type: "m.room.member", StateKey: "@alice:kabar.test"}, EventNID: 2},
			})
			if err != nil {
				return err
			}
			create, member := testEvent(1, room, "m.room.create", ptr(""), 1), testEvent(2, room, "m.room.member", ptr("@alice:kabar.test"), 2)
			member.Membership = "join"
			msg := testEvent(3, room, "m.room.message", nil, 3)
			for _, e := range []*models.Event{&create, &member, &msg} {
				e.StateAfter = snap
			}
			return tx.WriteRoom(ctx, &store.RoomWrite{
				RoomID:      room,
				NewRoom:     &models.Room{RoomID: room, Version: "12", Creator: "@alice:kabar.test", CreatedAt: 1},
				Events:      []models.Event{create, member, msg},
				SnapshotNID: snap,
				CurrentState: []models.CurrentState{
					{RoomID: room, Type: "m.room.create", EventNID: 1, EventID: "$e1"},
					{RoomID: room, Type: "m.room.member", StateKey: "@alice:kabar.test", EventNID: 2, EventID: "$e2", Membership: "join"},
				},
				ExtremitiesAdded: []string{"$e3"},
				TxnIDs:           []models.TxnID{{UserID: "@alice:kabar.test", DeviceID: "D", Scope: "/rooms/" + room + "/send/m.room.message", TxnID: "t1", EventID: "$e3", CreatedAt: 1}},
				Redactions:       map[string]string{"$e3": "$e4"},
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.Room(ctx, room)
		if err != nil || r.SnapshotNID != snap || r.Version != "12" {
			t.Fatalf("room = %+v, %v", r, err)
		}
		checks := []struct {
			name string
			got  any
			err  error
			want string
		}{
			{"joined", must(s.MembersWith(ctx, room, "join")), nil, "[@alice:kabar.test]"},
			{"rooms of user", must(s.RoomsOfUser(ctx, "@alice:kabar.test", "join")), nil, "[" + room + "]"},
			{"extremities", must(s.ForwardExtremities(ctx, room)), nil, "[$e3]"},
			{"txn", must(s.TxnEvent(ctx, "@alice:kabar.test", "D", "/rooms/"+room+"/send/m.room.message", "t1")), nil, "$e3"},
			{"redacted", must(s.EventByID(ctx, "$e3")).RedactedBy, nil, "$e4"},
			{"stream", len(must(s.RoomStream(ctx, room, 1, 3, 10))), nil, "2"},
			{"topo back", len(must(s.RoomTopo(ctx, room, store.TopoPosition{Depth: 3, Stream: 3}, true, 10))), nil, "2"},
			{"near ts", must(s.EventNearTimestamp(ctx, room, 1500, false)).EventID, nil, "$e2"},
			{"membership events", len(must(s.MembershipEvents(ctx, "@alice:kabar.test", 0, 10))), nil, "1"},
		}
		for _, c := range checks {
			if got := fmt.Sprint(c.got); got != c.want {
				t.Errorf("%s = %s, want %s", c.name, got, c.want)
			}
		}
		if _, err := s.TxnEvent(ctx, "@alice:kabar.test", "OTHER", room, "t1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("other device's txn: %v, want ErrNotFound", err)
		}
		nid, err := cache.Lookup(ctx, s, snap, store.StateKey{Type: "m.room.member", StateKey: "@alice:kabar.test"})
		if err != nil || nid != 2 {
			t.Errorf("lookup = %d, %v", nid, err)
		}
		maxNID, maxPos, err := s.MaxNIDs(ctx)
		if err != nil || maxNID != 3 || maxPos != 3 {
			t.Errorf("MaxNIDs = %d, %d, %v", maxNID, maxPos, err)
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestAliases(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := models.RoomAlias{Alias: "#a:kabar.test", RoomID: "!r:kabar.test", Creator: "@u:kabar.test", CreatedAt: 1}
		if err := s.CreateAlias(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateAlias(ctx, a); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate alias: %v", err)
		}
		got, err := s.Alias(ctx, a.Alias)
		if err != nil || got.RoomID != a.RoomID {
			t.Fatalf("alias = %+v, %v", got, err)
		}
		if list := must(s.RoomAliases(ctx, a.RoomID)); len(list) != 1 {
			t.Fatalf("aliases = %v", list)
		}
		if err := s.DeleteAlias(ctx, a.Alias); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteAlias(ctx, a.Alias); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second delete: %v", err)
		}
	})
}
