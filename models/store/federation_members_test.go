package store_test

import (
	"context"
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
