package main

import (
	"context"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
)

// TestPushRoomMentionByCreator: in a room version 12 room (the default) the
// creator is not in m.room.power_levels' users map but has infinite power
// (rooms/v12.md), so their @room mention passes sender_notification_permission
// and highlights; a member at users_default 0 does not reach
// notifications.room (50). Both show in /sync's unread_notifications.
func TestPushRoomMentionByCreator(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		alice, bob := registerClient(t, ts, "alice"), registerClient(t, ts, "bob")
		room, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "public_chat", RoomVersion: "12"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bob.JoinRoom(ctx, room.RoomID.String(), nil); err != nil {
			t.Fatal(err)
		}
		_, bobSince := unreadIn(t, ts, bob.AccessToken, "", room.RoomID)
		_, aliceSince := unreadIn(t, ts, alice.AccessToken, "", room.RoomID)
		atRoom := func(c *mautrix.Client) {
			t.Helper()
			_, err := c.SendMessageEvent(ctx, room.RoomID, event.EventMessage, map[string]any{
				"msgtype": "m.text", "body": "@room hi", "m.mentions": map[string]any{"room": true},
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		atRoom(alice)
		if got, _ := unreadIn(t, ts, bob.AccessToken, bobSince, room.RoomID); got != (unread{1, 1}) {
			t.Errorf("bob after the creator's @room: %+v, want 1/1", got)
		}
		atRoom(bob)
		if got, _ := unreadIn(t, ts, alice.AccessToken, aliceSince, room.RoomID); got != (unread{1, 0}) {
			t.Errorf("alice after bob's @room: %+v, want 1/0", got)
		}
	})
}
