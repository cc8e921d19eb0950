package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// TestSlidingSyncToDeviceLimit: a backlog of 1,000 to-device messages
// comes down in batches of at most limit (100 by default), in order,
// nothing lost or duplicated; a retried since gets the same batch again.
func TestSlidingSyncToDeviceLimit(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		alice, bob := registerClient(t, ts, "alice"), registerClient(t, ts, "bob")
		send := func(from, n int) {
			for i := from; i < from+n; i++ {
				msg := map[string]map[string]json.RawMessage{alice.UserID.String(): {alice.DeviceID.String(): json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))}}
				if err := ts.srv.keys.SendToDevice(ctx, bob.UserID.String(), bob.DeviceID.String(), "org.example.seq", fmt.Sprint("t", i), msg); err != nil {
					t.Fatalf("send %d: %v", i, err)
				}
			}
		}
		body := func(since string, limit int) string {
			l := ""
			if limit != 0 {
				l = fmt.Sprintf(`,"limit":%d`, limit)
			}
			return fmt.Sprintf(`{"extensions":{"to_device":{"enabled":true,"since":%q%s}}}`, since, l)
		}
		// drain polls until an empty batch, checking each batch's size
		// and that the numbers continue from next.
		drain := func(pos, since string, limit, max, next int) (string, string, int, int) {
			polls := 0
			for {
				r := slide(t, ts, alice.AccessToken, pos, 0, body(since, limit))
				td := r.Extensions.ToDevice
				if len(td.Events) > max {
					t.Fatalf("batch of %d, limit %d", len(td.Events), max)
				}
				if len(td.Events) == 0 {
					return r.Pos, td.NextBatch, next, polls
				}
				polls++
				for _, ev := range td.Events {
					n := ev["content"].(map[string]any)["n"].(float64)
					if int(n) != next {
						t.Fatalf("got message %v, want %d", n, next)
					}
					next++
				}
				pos, since = r.Pos, td.NextBatch
			}
		}
		send(0, 1000)
		r := slide(t, ts, alice.AccessToken, "", 0, `{"extensions":{"to_device":{"enabled":true,"limit":150}}}`)
		first := r.Extensions.ToDevice
		if len(first.Events) != 150 {
			t.Fatalf("first batch: %d events", len(first.Events))
		}
		// The response was lost: the client asks again from the same
		// position and gets the same batch.
		again := slide(t, ts, alice.AccessToken, r.Pos, 0, body("", 150))
		if len(again.Extensions.ToDevice.Events) != 150 || again.Extensions.ToDevice.Events[0]["content"].(map[string]any)["n"].(float64) != 0 {
			t.Fatalf("retried batch: %+v", again.Extensions.ToDevice.Events[:1])
		}
		pos, since, next, polls := drain(again.Pos, "", 150, 150, 0)
		if next != 1000 || polls != 7 {
			t.Fatalf("limit 150: %d messages in %d polls, want 1000 in 7", next, polls)
		}
		// The default limit is 100; a limit past the cap is clamped.
		send(1000, 250)
		pos, since, next, polls = drain(pos, since, 0, 100, 1000)
		if next != 1250 || polls != 3 {
			t.Fatalf("default limit: up to %d in %d polls, want 1250 in 3", next, polls)
		}
		send(1250, 10)
		if _, _, next, _ = drain(pos, since, 1<<30, 1000, 1250); next != 1260 {
			t.Fatalf("huge limit: up to %d", next)
		}
		// Acknowledged: a new connection has nothing.
		fresh := slide(t, ts, alice.AccessToken, "", 0, `{"conn_id":"fresh","extensions":{"to_device":{"enabled":true}}}`)
		if n := len(fresh.Extensions.ToDevice.Events); n != 0 {
			t.Fatalf("%d messages delivered again", n)
		}
	})
}

// TestSlidingSyncFilters: tags / not_tags from m.tag, is_tombstoned and
// spaces (direct m.space.child with via, of joined spaces only).
func TestSlidingSyncFilters(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		alice, bob := registerClient(t, ts, "alice"), registerClient(t, ts, "bob")
		create := func(c *mautrix.Client, name string, req *mautrix.ReqCreateRoom) id.RoomID {
			if req == nil {
				req = &mautrix.ReqCreateRoom{}
			}
			req.Name = name
			r, err := c.CreateRoom(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			return r.RoomID
		}
		state := func(c *mautrix.Client, room id.RoomID, typ event.Type, key string, content map[string]any) {
			if _, err := c.SendStateEvent(ctx, room, typ, key, content); err != nil {
				t.Fatal(err)
			}
		}
		fav, low, plain, tomb := create(alice, "fav", nil), create(alice, "low", nil), create(alice, "plain", nil), create(alice, "tomb", nil)
		secret := create(alice, "secret", &mautrix.ReqCreateRoom{InitialState: []*event.Event{{Type: event.StateEncryption, StateKey: new(string),
			Content: event.Content{Raw: map[string]any{"algorithm": "m.megolm.v1.aes-sha2"}}}}})
		space := create(alice, "space", &mautrix.ReqCreateRoom{CreationContent: map[string]any{"type": "m.space"}})
		other := create(bob, "bob's space", &mautrix.ReqCreateRoom{CreationContent: map[string]any{"type": "m.space"}, Preset: "public_chat"})
		if err := alice.AddTag(ctx, fav, event.RoomTagFavourite, 0.5); err != nil {
			t.Fatal(err)
		}
		if err := alice.AddTag(ctx, low, event.RoomTagLowPriority, 0.5); err != nil {
			t.Fatal(err)
		}
		state(alice, tomb, event.StateTombstone, "", map[string]any{"body": "moved", "replacement_room": plain.String()})
		state(alice, space, event.StateSpaceChild, fav.String(), map[string]any{"via": []string{"kabar.test"}})
		state(alice, space, event.StateSpaceChild, plain.String(), map[string]any{}) // no via: not a child
		state(bob, other, event.StateSpaceChild, low.String(), map[string]any{"via": []string{"kabar.test"}})
		body := `{"lists":{
			"fav":{"ranges":[[0,20]],"filters":{"tags":["m.favourite"]}},
			"notlow":{"ranges":[[0,20]],"filters":{"not_tags":["m.lowpriority"]}},
			"both":{"ranges":[[0,20]],"filters":{"tags":["m.favourite","m.lowpriority"],"not_tags":["m.favourite"]}},
			"tomb":{"ranges":[[0,20]],"filters":{"is_tombstoned":true}},
			"alive":{"ranges":[[0,20]],"filters":{"is_tombstoned":false,"not_room_types":["m.space"]}},
			"space":{"ranges":[[0,20]],"filters":{"spaces":["` + space.String() + `"]}},
			"notjoined":{"ranges":[[0,20]],"filters":{"spaces":["` + other.String() + `"]}},
			"favspace":{"ranges":[[0,20]],"filters":{"spaces":["` + other.String() + `","` + space.String() + `"],"tags":["m.favourite"]}},
			"enc":{"ranges":[[0,20]],"filters":{"is_encrypted":true}}}}`
		want := map[string]int{"fav": 1, "notlow": 5, "both": 1, "tomb": 1, "alive": 4, "space": 1, "notjoined": 0, "favspace": 1, "enc": 1}
		check := func(what string, r ssResp) {
			t.Helper()
			for name, n := range want {
				if r.Lists[name].Count != n {
					t.Errorf("%s: list %s has %d rooms, want %d", what, name, r.Lists[name].Count, n)
				}
			}
		}
		r := slide(t, ts, alice.AccessToken, "", 0, body)
		check("initial", r)
		for _, id := range []id.RoomID{fav, low, plain, tomb, space, secret} {
			if _, ok := r.Rooms[id.String()]; !ok {
				t.Errorf("room %s not sent", id)
			}
		}
		// Tag changes and a new child move rooms between lists on the
		// next incremental response.
		if err := alice.AddTag(ctx, plain, event.RoomTagFavourite, 0.1); err != nil {
			t.Fatal(err)
		}
		if err := alice.RemoveTag(ctx, low, event.RoomTagLowPriority); err != nil {
			t.Fatal(err)
		}
		state(alice, space, event.StateSpaceChild, plain.String(), map[string]any{"via": []string{"kabar.test"}})
		want["fav"], want["notlow"], want["both"], want["space"], want["favspace"] = 2, 6, 0, 2, 2
		check("incremental", slide(t, ts, alice.AccessToken, r.Pos, 0, body))
	})
}

// TestSlidingSyncLazyMembers: $LAZY sends a sender's member event once
// per connection, again when it changes, and afresh to a new connection.
func TestSlidingSyncLazyMembers(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		alice, bob, carol := registerClient(t, ts, "alice"), registerClient(t, ts, "bob"), registerClient(t, ts, "carol")
		room, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "public_chat"})
		if err != nil {
			t.Fatal(err)
		}
		rid := room.RoomID
		if _, err := bob.JoinRoomByID(ctx, rid); err != nil {
			t.Fatal(err)
		}
		say := func(c *mautrix.Client, text string) {
			if _, err := c.SendText(ctx, rid, text); err != nil {
				t.Fatal(err)
			}
		}
		say(bob, "one")
		const body = `{"lists":{"all":{"ranges":[[0,9]],"timeline_limit":3,"required_state":[["m.room.member","$LAZY"],["m.room.name",""]]}}}`
		members := func(r ssResp) []string {
			var out []string
			for _, s := range r.Rooms[rid.String()].RequiredState {
				if s.Type == "m.room.member" {
					out = append(out, s.StateKey)
				}
			}
			slices.Sort(out)
			return out
		}
		expect := func(what string, r ssResp, want ...string) {
			t.Helper()
			if got := members(r); !slices.Equal(got, want) {
				t.Errorf("%s: members %v, want %v", what, got, want)
			}
		}
		// The timeline's last three: alice's history visibility, bob's
		// join and message.
		r := slide(t, ts, alice.AccessToken, "", 0, body)
		expect("initial", r, alice.UserID.String(), bob.UserID.String())
		say(bob, "two")
		r = slide(t, ts, alice.AccessToken, r.Pos, 0, body)
		expect("bob again", r)
		if _, err := carol.JoinRoomByID(ctx, rid); err != nil {
			t.Fatal(err)
		}
		say(carol, "hi")
		r = slide(t, ts, alice.AccessToken, r.Pos, 0, body)
		expect("carol joins", r, carol.UserID.String())
		say(carol, "again")
		say(bob, "three")
		r = slide(t, ts, alice.AccessToken, r.Pos, 0, body)
		expect("both again", r)
		// Bob's new display name is a changed member: sent again.
		if _, err := bob.SendStateEvent(ctx, rid, event.StateMember, bob.UserID.String(),
			map[string]any{"membership": "join", "displayname": "Bobby"}); err != nil {
			t.Fatal(err)
		}
		say(bob, "renamed")
		r = slide(t, ts, alice.AccessToken, r.Pos, 0, body)
		expect("bob renamed", r, bob.UserID.String())
		say(alice, "me")
		r = slide(t, ts, alice.AccessToken, r.Pos, 0, body)
		expect("alice again", r)
		// Bob renames while the (limited) timeline shows only alice: his
		// member is not sent, so the connection no longer has it and gets
		// it when he next speaks.
		short := strings.Replace(body, `"timeline_limit":3`, `"timeline_limit":1`, 1)
		if _, err := bob.SendStateEvent(ctx, rid, event.StateMember, bob.UserID.String(),
			map[string]any{"membership": "join", "displayname": "Robert"}); err != nil {
			t.Fatal(err)
		}
		say(alice, "quiet")
		r = slide(t, ts, alice.AccessToken, r.Pos, 0, short)
		expect("bob renamed off-timeline", r)
		say(bob, "back")
		r = slide(t, ts, alice.AccessToken, r.Pos, 0, short)
		expect("bob back", r, bob.UserID.String())
		// A new connection has nothing: its initial room carries the
		// members of its timeline's senders.
		r = slide(t, ts, alice.AccessToken, "", 0, body)
		expect("new connection", r, alice.UserID.String(), bob.UserID.String())
	})
}

// TestSlidingSyncExpandedTimeline: raising timeline_limit sends the newest
// events up to the new limit, marked unstable_expanded_timeline, not the
// room afresh; asking for more state still does.
func TestSlidingSyncExpandedTimeline(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		alice := registerClient(t, ts, "alice")
		room, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Name: "long"})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 10 {
			if _, err := alice.SendText(ctx, room.RoomID, fmt.Sprint("m", i)); err != nil {
				t.Fatal(err)
			}
		}
		list := func(limit int, state string) string {
			return fmt.Sprintf(`{"lists":{"all":{"ranges":[[0,9]],"timeline_limit":%d,"required_state":[%s]}}}`, limit, state)
		}
		const name = `["m.room.name",""]`
		r := slide(t, ts, alice.AccessToken, "", 0, list(2, name))
		if got := r.Rooms[room.RoomID.String()]; !got.Initial || len(got.Timeline) != 2 {
			t.Fatalf("initial: %+v", got)
		}
		r = slide(t, ts, alice.AccessToken, r.Pos, 0, list(8, name))
		got := r.Rooms[room.RoomID.String()]
		if got.Initial || !got.Expanded || len(got.Timeline) != 8 || got.Timeline[7].Content["body"] != "m9" ||
			got.Timeline[0].Content["body"] != "m2" || !got.Limited || len(got.RequiredState) != 0 || got.NumLive != 0 {
			t.Fatalf("expanded: %+v", got)
		}
		// Nothing new at the same limit, or a lower one.
		if r = slide(t, ts, alice.AccessToken, r.Pos, 0, list(8, name)); len(r.Rooms) != 0 {
			t.Fatalf("same limit again: %+v", r.Rooms)
		}
		if r = slide(t, ts, alice.AccessToken, r.Pos, 0, list(3, name)); len(r.Rooms) != 0 {
			t.Fatalf("lower limit: %+v", r.Rooms)
		}
		// More state: the room afresh.
		r = slide(t, ts, alice.AccessToken, r.Pos, 0, list(8, name+`,["m.room.create",""]`))
		if got := r.Rooms[room.RoomID.String()]; !got.Initial || got.Expanded || len(got.RequiredState) != 2 {
			t.Fatalf("more state: %+v", got)
		}
	})
}
