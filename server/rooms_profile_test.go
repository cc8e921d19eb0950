package main

import (
	"context"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
)

// TestCreateRoomCreatorProfile: the creator's join event carries their
// displayname and avatar like every other join, so clients show a name.
func TestCreateRoomCreatorProfile(t *testing.T) {
	eachServer(t, roomsMoreConfig, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		alice := registerClient(t, ts, "alice")
		if err := alice.SetDisplayName(ctx, "Alice Example"); err != nil {
			t.Fatal(err)
		}
		room := mustCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "private_chat"})
		m := membershipOf(t, alice, room, alice.UserID)
		if m.Membership != event.MembershipJoin || m.Displayname != "Alice Example" {
			t.Fatalf("creator join: %+v", m)
		}
	})
}
