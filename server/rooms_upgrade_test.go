package main

import (
	"context"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// TestRoomsUpgradeMembers: /upgrade carries the transferable state and the
// bans, and invites the old room's joined members when the new room is not
// open to them (invite, knock); the old room is tombstoned and restricted.
func TestRoomsUpgradeMembers(t *testing.T) {
	eachServer(t, roomsMoreConfig, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		alice, bob, carol := registerClient(t, ts, "alice"), registerClient(t, ts, "bob"), registerClient(t, ts, "carol")
		room := mustCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "private_chat", Topic: "plans", RoomVersion: "10",
			Invite: []id.UserID{bob.UserID, carol.UserID}})
		for _, c := range []*mautrix.Client{bob, carol} {
			if _, err := c.JoinRoomByID(ctx, room); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := alice.BanUser(ctx, room, &mautrix.ReqBanUser{UserID: carol.UserID}); err != nil {
			t.Fatal(err)
		}
		var up struct {
			ReplacementRoom id.RoomID `json:"replacement_room"`
		}
		if _, err := alice.MakeRequest(ctx, "POST", alice.BuildClientURL("v3", "rooms", room, "upgrade"), map[string]string{"new_version": "12"}, &up); err != nil {
			t.Fatalf("upgrade: %v", err)
		}
		var topic event.TopicEventContent
		if err := alice.StateEvent(ctx, up.ReplacementRoom, event.StateTopic, "", &topic); err != nil || topic.Topic != "plans" {
			t.Fatalf("topic carried: %+v %v", topic, err)
		}
		var jr event.JoinRulesEventContent
		if err := alice.StateEvent(ctx, up.ReplacementRoom, event.StateJoinRules, "", &jr); err != nil || jr.JoinRule != event.JoinRuleInvite {
			t.Fatalf("join rule carried: %+v %v", jr, err)
		}
		if m := membershipOf(t, alice, up.ReplacementRoom, bob.UserID); m.Membership != event.MembershipInvite {
			t.Fatalf("bob in new room: %+v", m)
		}
		if m := membershipOf(t, alice, up.ReplacementRoom, carol.UserID); m.Membership != event.MembershipBan {
			t.Fatalf("carol in new room: %+v", m)
		}
		if _, err := bob.JoinRoomByID(ctx, up.ReplacementRoom); err != nil {
			t.Fatalf("bob follows the upgrade: %v", err)
		}
		if _, err := carol.JoinRoomByID(ctx, up.ReplacementRoom); httpStatus(err) != 403 {
			t.Fatalf("banned carol follows: %v", err)
		}
		if _, err := bob.SendText(ctx, room, "old room"); httpStatus(err) != 403 {
			t.Fatalf("old room restricted: %v", err)
		}
	})
}
