package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
)

func TestHasJoinedOn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		room := "!r:a.test"
		rows := []models.CurrentState{
			{RoomID: room, Type: "m.room.member", StateKey: "@x:a.test", EventNID: 1, EventID: "$1", Membership: "join"},
			{RoomID: room, Type: "m.room.member", StateKey: "@y:b_c.test", EventNID: 2, EventID: "$2", Membership: "join"},
			{RoomID: room, Type: "m.room.member", StateKey: "@z:gone.test", EventNID: 3, EventID: "$3", Membership: "leave"},
			{RoomID: room, Type: "m.room.member", StateKey: "@w:xa.test", EventNID: 4, EventID: "$4", Membership: "invite"},
		}
		err := s.Transaction(ctx, func(tx *store.Store) error {
			return tx.WriteRoom(ctx, &store.RoomWrite{RoomID: room, CurrentState: rows})
		})
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			server string
			want   bool
		}{
			{"a.test", true},
			{"b_c.test", true},
			{"bxc.test", false}, // "_" is not a wildcard
			{"gone.test", false},
			{"xa.test", false}, // invited, not joined
			{"test", false},    // a suffix of a name is not the server
			{"c.test", false},
		}
		for _, tc := range cases {
			got, err := s.HasJoinedOn(ctx, room, tc.server)
			if err != nil || got != tc.want {
				t.Errorf("%s: %v %v, want %v", tc.server, got, err, tc.want)
			}
		}
	})
}

func TestServerMembers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		room := "!r:a.test"
		member := func(nid int64, user, membership string, pos int64, rejected bool) models.Event {
			return models.Event{EventNID: nid, EventID: fmt.Sprintf("$%d", nid), RoomID: room, Type: "m.room.member",
				StateKey: &user, Membership: membership, StreamPos: pos, JSON: "{}", Rejected: rejected}
		}
		events := []models.Event{
			member(1, "@x:a.test", "join", 1, false),
			member(2, "@x:a.test", "leave", 2, false),
			member(3, "@y:a.test", "invite", 3, false),
			member(4, "@z:a.test", "join", 4, true), // rejected: never counts
			member(5, "@w:b.test", "join", 5, false),
			member(6, "@v:xa.test", "join", 6, false), // another server
			member(7, "@x:a.test", "join", 7, false),
		}
		err := s.Transaction(ctx, func(tx *store.Store) error {
			return tx.WriteRoom(ctx, &store.RoomWrite{RoomID: room, Events: events})
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.ServerMembers(ctx, room, "a.test")
		if err != nil || len(got) != 2 {
			t.Fatalf("%+v %v", got, err)
		}
		if got[0].UserID != "@x:a.test" || got[0].LastJoin == nil || *got[0].LastJoin != 7 || got[0].Last != 7 {
			t.Errorf("first: %+v", got[0])
		}
		if got[1].UserID != "@y:a.test" || got[1].LastJoin != nil || got[1].Last != 3 {
			t.Errorf("second: %+v", got[1])
		}
		if none, err := s.ServerMembers(ctx, room, "c.test"); err != nil || len(none) != 0 {
			t.Errorf("c.test: %+v %v", none, err)
		}
	})
}
