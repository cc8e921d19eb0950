package main

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
)

// TestSyncTypingReceiptsTags: typing, receipts (public and private), read
// markers and tags reach the right devices through incremental syncs.
func TestSyncTypingReceiptsTags(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		ts.register(t, "alice", "correct horse")
		a := login(t, ts, "alice", "correct horse")
		bob := newClient(t, ts, "@bob:kabar.test", ts.register(t, "bob", "correct horse"))
		room, err := a.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "public_chat"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bob.JoinRoom(ctx, room.RoomID.String(), nil); err != nil {
			t.Fatal(err)
		}
		msg, err := a.SendText(ctx, room.RoomID, "hello")
		if err != nil {
			t.Fatal(err)
		}
		base, err := bob.SyncRequest(ctx, 0, "", "", false, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.UserTyping(ctx, room.RoomID, true, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		if err := a.SendReceipt(ctx, room.RoomID, msg.EventID, event.ReceiptTypeRead, nil); err != nil {
			t.Fatal(err)
		}
		if err := a.SendReceipt(ctx, room.RoomID, msg.EventID, event.ReceiptTypeReadPrivate, nil); err != nil {
			t.Fatal(err)
		}
		inc, err := bob.SyncRequest(ctx, 1000, base.NextBatch, "", false, "")
		if err != nil {
			t.Fatal(err)
		}
		jr := inc.Rooms.Join[room.RoomID]
		if jr == nil {
			t.Fatalf("no room update: %+v", inc.Rooms)
		}
		var typing, publicRead, privateRead bool
		for _, ev := range jr.Ephemeral.Events {
			raw, _ := json.Marshal(ev.Content.Raw)
			switch ev.Type {
			case event.EphemeralEventTyping:
				typing = string(raw) == `{"user_ids":["@alice:kabar.test"]}`
			case event.EphemeralEventReceipt:
				var c map[string]map[string]map[string]any
				json.Unmarshal(raw, &c)
				_, publicRead = c[msg.EventID.String()]["m.read"]["@alice:kabar.test"]
				_, privateRead = c[msg.EventID.String()]["m.read.private"]
			}
		}
		if !typing || !publicRead || privateRead {
			t.Errorf("ephemeral: typing %v, public receipt %v, someone else's private receipt %v", typing, publicRead, privateRead)
		}

		// Tags and read markers are alice's room account data.
		aBase, err := a.SyncRequest(ctx, 0, "", "", false, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := a.AddTag(ctx, room.RoomID, "m.favourite", 0.5); err != nil {
			t.Fatal(err)
		}
		if err := a.SetReadMarkers(ctx, room.RoomID, map[string]string{"m.fully_read": msg.EventID.String()}); err != nil {
			t.Fatal(err)
		}
		tags, err := a.GetTags(ctx, room.RoomID)
		if err != nil || tags.Tags["m.favourite"].Order != "0.5" {
			t.Fatalf("tags: %+v %v", tags, err)
		}
		aInc, err := a.SyncRequest(ctx, 1000, aBase.NextBatch, "", false, "")
		if err != nil {
			t.Fatal(err)
		}
		types := map[string]bool{}
		if jr := aInc.Rooms.Join[room.RoomID]; jr != nil {
			for _, ev := range jr.AccountData.Events {
				types[ev.Type.Type] = true
			}
		}
		if !types["m.tag"] || !types["m.fully_read"] {
			t.Errorf("room account data types: %v", types)
		}
		if err := a.RemoveTag(ctx, room.RoomID, "m.favourite"); err != nil {
			t.Fatal(err)
		}
		if tags, _ := a.GetTags(ctx, room.RoomID); len(tags.Tags) != 0 {
			t.Errorf("tag not removed: %+v", tags)
		}

		r := "/_matrix/client/v3/rooms/" + url.PathEscape(room.RoomID.String())
		tagURL := "/_matrix/client/v3/user/@alice:kabar.test/rooms/" + url.PathEscape(room.RoomID.String()) + "/tags/x"
		runErrCases(t, ts, []errCase{
			{"receipt bad type", "POST", r + "/receipt/m.nope/" + url.PathEscape(msg.EventID.String()), a.AccessToken, `{}`, 400, "M_INVALID_PARAM"},
			{"receipt unknown event", "POST", r + "/receipt/m.read/" + url.PathEscape("$nope"), a.AccessToken, `{}`, 404, "M_NOT_FOUND"},
			{"typing for someone else", "PUT", r + "/typing/@bob:kabar.test", a.AccessToken, `{"typing":true}`, 403, "M_FORBIDDEN"},
			{"typing without typing", "PUT", r + "/typing/@alice:kabar.test", a.AccessToken, `{}`, 400, "M_BAD_JSON"},
			{"tag bad order", "PUT", tagURL, a.AccessToken, `{"order":7}`, 400, "M_BAD_JSON"},
			{"tags of someone else", "GET", "/_matrix/client/v3/user/@bob:kabar.test/rooms/" + url.PathEscape(room.RoomID.String()) + "/tags", a.AccessToken, "", 403, "M_FORBIDDEN"},
		})
	})
}
