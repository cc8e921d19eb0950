package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// registerClient registers a user and returns a mautrix client for them.
func registerClient(t *testing.T, ts *testServer, user string) *mautrix.Client {
	t.Helper()
	anon := newClient(t, ts, "", "")
	reg, err := anon.RegisterDummy(context.Background(), &mautrix.ReqRegister[any]{Username: user, Password: "correct horse " + user})
	if err != nil {
		t.Fatalf("register %s: %v", user, err)
	}
	cli := newClient(t, ts, reg.UserID, reg.AccessToken)
	cli.DeviceID = reg.DeviceID
	return cli
}

// TestMautrixRoomFlows: three users create, invite, join, chat, change power
// levels, redact, ban, use aliases and the public directory, and upgrade.
func TestMautrixRoomFlows(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		alice, bob, carol := registerClient(t, ts, "alice"), registerClient(t, ts, "bob"), registerClient(t, ts, "carol")
		created, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Name: "Lobby", Topic: "hello",
			Preset: "private_chat", RoomAliasName: "lobby", Invite: []id.UserID{bob.UserID}})
		if err != nil {
			t.Fatalf("createRoom: %v", err)
		}
		room := created.RoomID
		if _, err := carol.JoinRoomByID(ctx, room); httpStatus(err) != 403 {
			t.Fatalf("uninvited join: %v", err)
		}
		if _, err := bob.JoinRoom(ctx, "#lobby:kabar.test", nil); err != nil {
			t.Fatalf("bob joins by alias: %v", err)
		}
		sent, err := bob.SendText(ctx, room, "hi alice")
		if err != nil {
			t.Fatalf("send: %v", err)
		}
		if err := alice.StateEvent(ctx, room, event.StateTopic, "", &event.TopicEventContent{}); err != nil {
			t.Fatalf("topic: %v", err)
		}
		got, err := alice.GetEvent(ctx, room, sent.EventID)
		if err != nil || got.Sender != bob.UserID || got.Content.Raw["body"] != "hi alice" {
			t.Fatalf("get event: %+v %v", got, err)
		}
		// bob cannot change the name (power 0 < 50) until alice promotes him.
		if _, err := bob.SendStateEvent(ctx, room, event.StateRoomName, "", map[string]any{"name": "x"}); httpStatus(err) != 403 {
			t.Fatalf("bob renames: %v", err)
		}
		var pl event.PowerLevelsEventContent
		if err := alice.StateEvent(ctx, room, event.StatePowerLevels, "", &pl); err != nil {
			t.Fatal(err)
		}
		pl.SetUserLevel(bob.UserID, 50)
		if _, err := alice.SendStateEvent(ctx, room, event.StatePowerLevels, "", &pl); err != nil {
			t.Fatalf("promote bob: %v", err)
		}
		if _, err := bob.SendStateEvent(ctx, room, event.StateRoomName, "", map[string]any{"name": "Bob's"}); err != nil {
			t.Fatalf("bob renames after promotion: %v", err)
		}
		// Redaction: alice redacts bob's message; it is served redacted.
		if _, err := alice.RedactEvent(ctx, room, sent.EventID); err != nil {
			t.Fatalf("redact: %v", err)
		}
		got, err = bob.GetEvent(ctx, room, sent.EventID)
		if err != nil || len(got.Content.Raw) != 0 || got.Unsigned.RedactedBecause == nil {
			t.Fatalf("redacted event: %+v %v", got, err)
		}
		// Carol is invited, joins, gets banned.
		if _, err := alice.InviteUser(ctx, room, &mautrix.ReqInviteUser{UserID: carol.UserID}); err != nil {
			t.Fatal(err)
		}
		if _, err := carol.JoinRoomByID(ctx, room); err != nil {
			t.Fatal(err)
		}
		if _, err := bob.BanUser(ctx, room, &mautrix.ReqBanUser{UserID: carol.UserID, Reason: "spam"}); err != nil {
			t.Fatalf("ban: %v", err)
		}
		if _, err := carol.SendText(ctx, room, "let me in"); httpStatus(err) != 403 {
			t.Fatalf("banned user sends: %v", err)
		}
		members, err := alice.JoinedMembers(ctx, room)
		if err != nil || len(members.Joined) != 2 {
			t.Fatalf("joined members: %+v %v", members, err)
		}
		rooms, err := bob.JoinedRooms(ctx)
		if err != nil || len(rooms.JoinedRooms) != 1 || rooms.JoinedRooms[0] != room {
			t.Fatalf("joined rooms: %+v %v", rooms, err)
		}
		// Public directory.
		pub, err := carol.CreateRoom(ctx, &mautrix.ReqCreateRoom{Name: "Gardening club", Visibility: "public", Preset: "public_chat"})
		if err != nil {
			t.Fatal(err)
		}
		list, err := alice.PublicRooms(ctx, &mautrix.ReqPublicRooms{})
		if err != nil || len(list.Chunk) != 1 || list.Chunk[0].RoomID != pub.RoomID || list.Chunk[0].NumJoinedMembers != 1 {
			t.Fatalf("public rooms: %+v %v", list, err)
		}
		// Upgrade: tombstone in the old room, the alias follows.
		var up struct {
			ReplacementRoom string `json:"replacement_room"`
		}
		_, err = alice.MakeRequest(ctx, "POST", alice.BuildClientURL("v3", "rooms", room, "upgrade"), map[string]string{"new_version": "11"}, &up)
		if err != nil || up.ReplacementRoom == "" {
			t.Fatalf("upgrade: %v", err)
		}
		var tomb event.TombstoneEventContent
		if err := bob.StateEvent(ctx, room, event.StateTombstone, "", &tomb); err != nil || string(tomb.ReplacementRoom) != up.ReplacementRoom {
			t.Fatalf("tombstone: %+v %v", tomb, err)
		}
		alias, err := bob.ResolveAlias(ctx, "#lobby:kabar.test")
		if err != nil || string(alias.RoomID) != up.ReplacementRoom {
			t.Fatalf("alias after upgrade: %+v %v", alias, err)
		}
		var name event.RoomNameEventContent
		if err := alice.StateEvent(ctx, id.RoomID(up.ReplacementRoom), event.StateRoomName, "", &name); err != nil || name.Name != "Bob's" {
			t.Fatalf("name carried over: %+v %v", name, err)
		}
		// Leave and forget.
		if _, err := bob.LeaveRoom(ctx, room); err != nil {
			t.Fatal(err)
		}
		if _, err := bob.ForgetRoom(ctx, room); err != nil {
			t.Fatalf("forget: %v", err)
		}
	})
}

// TestConcurrentSendersOneRoom: 50 clients send 100 messages each into one
// room at once; every acknowledged event is stored exactly once, in one
// total order (stream positions and depths strictly increase together).
func TestConcurrentSendersOneRoom(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		owner := registerClient(t, ts, "owner")
		created, err := owner.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "public_chat"})
		if err != nil {
			t.Fatal(err)
		}
		const clients, each = 50, 100
		users := make([]*mautrix.Client, clients)
		for i := range users {
			users[i] = registerClient(t, ts, fmt.Sprintf("u%d", i))
			if _, err := users[i].JoinRoomByID(ctx, created.RoomID); err != nil {
				t.Fatal(err)
			}
		}
		start := time.Now()
		var mu sync.Mutex
		acked := map[id.EventID]bool{}
		var wg sync.WaitGroup
		for _, u := range users {
			wg.Go(func() {
				for i := range each {
					resp, err := u.SendMessageEvent(ctx, created.RoomID, event.EventMessage,
						map[string]any{"msgtype": "m.text", "body": fmt.Sprint(i)})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					acked[resp.EventID] = true
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		t.Logf("%d sends in %v", clients*each, time.Since(start))
		if len(acked) != clients*each {
			t.Fatalf("%d distinct events acknowledged, want %d", len(acked), clients*each)
		}
		st := ts.srv.store
		rows, err := st.RoomStream(ctx, string(created.RoomID), 0, ts.srv.rooms.Stream().Current(), 100000)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		var lastPos, lastDepth int64
		for _, r := range rows {
			if seen[r.EventID] {
				t.Fatalf("event %s stored twice", r.EventID)
			}
			seen[r.EventID] = true
			if r.StreamPos <= lastPos || r.Depth <= lastDepth {
				t.Fatalf("total order broken at %s", r.EventID)
			}
			lastPos, lastDepth = r.StreamPos, r.Depth
		}
		for e := range acked {
			if !seen[string(e)] {
				t.Fatalf("acknowledged event %s missing", e)
			}
		}
	})
}

// TestRoomBadInput: exact status and errcode for bad requests; no 5xx.
func TestRoomBadInput(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		alice, bob := ts.register(t, "alice", "pw-alice-1"), ts.register(t, "bob", "pw-bob-1")
		code, body := ts.do(t, "POST", "/_matrix/client/v3/createRoom", alice, strings.NewReader(`{"room_alias_name":"taken"}`))
		var cr struct {
			RoomID string `json:"room_id"`
		}
		if code != 200 || json.Unmarshal(body, &cr) != nil {
			t.Fatalf("createRoom: %d %s", code, body)
		}
		room := strings.ReplaceAll(cr.RoomID, "!", "%21")
		long := strings.Repeat("a", 256)
		big := `{"body":"` + strings.Repeat("x", 70000) + `"}`
		cases := []errCase{
			{"bad room version", "POST", "/_matrix/client/v3/createRoom", alice, `{"room_version":"99"}`, 400, "M_UNSUPPORTED_ROOM_VERSION"},
			{"alias taken on create", "POST", "/_matrix/client/v3/createRoom", alice, `{"room_alias_name":"taken"}`, 400, "M_ROOM_IN_USE"},
			{"invalid alias name", "POST", "/_matrix/client/v3/createRoom", alice, `{"room_alias_name":"a:b"}`, 400, "M_INVALID_PARAM"},
			{"create not json", "POST", "/_matrix/client/v3/createRoom", alice, `{"name":`, 400, "M_NOT_JSON"},
			{"bad invitee", "POST", "/_matrix/client/v3/createRoom", alice, `{"invite":["nope"]}`, 400, "M_INVALID_PARAM"},
			{"bad preset", "POST", "/_matrix/client/v3/createRoom", alice, `{"preset":"x"}`, 400, "M_INVALID_PARAM"},
			{"bad initial state", "POST", "/_matrix/client/v3/createRoom", alice,
				`{"room_version":"11","power_level_content_override":{"users":{"@alice:kabar.test":1}}}`, 400, "M_INVALID_ROOM_STATE"},
			{"send not json", "PUT", "/_matrix/client/v3/rooms/" + room + "/send/m.room.message/t1", alice, `nope`, 400, "M_NOT_JSON"},
			{"send not object", "PUT", "/_matrix/client/v3/rooms/" + room + "/send/m.room.message/t2", alice, `[1]`, 400, "M_BAD_JSON"},
			{"send float", "PUT", "/_matrix/client/v3/rooms/" + room + "/send/m.room.message/t3", alice, `{"n":1.5}`, 400, "M_BAD_JSON"},
			{"send too large", "PUT", "/_matrix/client/v3/rooms/" + room + "/send/m.room.message/t4", alice, big, 413, "M_TOO_LARGE"},
			{"type too long", "PUT", "/_matrix/client/v3/rooms/" + room + "/send/" + long + "/t5", alice, `{}`, 413, "M_TOO_LARGE"},
			{"state key too long", "PUT", "/_matrix/client/v3/rooms/" + room + "/state/m.x/" + long, alice, `{}`, 413, "M_TOO_LARGE"},
			{"invalid room ID", "PUT", "/_matrix/client/v3/rooms/nope/send/m.room.message/t6", alice, `{}`, 400, "M_INVALID_PARAM"},
			{"unknown room", "PUT", "/_matrix/client/v3/rooms/%21nope:kabar.test/send/m.room.message/t7", alice, `{}`, 404, "M_NOT_FOUND"},
			{"not a member sends", "PUT", "/_matrix/client/v3/rooms/" + room + "/send/m.room.message/t8", bob, `{}`, 403, "M_FORBIDDEN"},
			{"not a member reads state", "GET", "/_matrix/client/v3/rooms/" + room + "/state", bob, "", 403, "M_FORBIDDEN"},
			{"unknown room state hides existence", "GET", "/_matrix/client/v3/rooms/%21nope:kabar.test/state", bob, "", 403, "M_FORBIDDEN"},
			{"uninvited join", "POST", "/_matrix/client/v3/rooms/" + room + "/join", bob, `{}`, 403, "M_FORBIDDEN"},
			{"join unknown alias", "POST", "/_matrix/client/v3/join/%23nope:kabar.test", bob, `{}`, 404, "M_NOT_FOUND"},
			// A room of a server that cannot be reached: the join is tried over
			// federation and fails cleanly (502, no internals).
			{"join remote room", "POST", "/_matrix/client/v3/join/%21abc:elsewhere.test", bob, `{}`, 502, "M_UNKNOWN"},
			{"bad event ID", "GET", "/_matrix/client/v3/rooms/" + room + "/event/nope", alice, "", 400, "M_INVALID_PARAM"},
			{"unknown event", "GET", "/_matrix/client/v3/rooms/" + room + "/event/%24nope", alice, "", 404, "M_NOT_FOUND"},
			{"alias in use", "PUT", "/_matrix/client/v3/directory/room/%23taken:kabar.test", alice, `{"room_id":"` + cr.RoomID + `"}`, 409, "M_ROOM_IN_USE"},
			{"invalid alias", "PUT", "/_matrix/client/v3/directory/room/taken", alice, `{"room_id":"` + cr.RoomID + `"}`, 400, "M_INVALID_PARAM"},
			{"delete alias not allowed", "DELETE", "/_matrix/client/v3/directory/room/%23taken:kabar.test", bob, "", 403, "M_FORBIDDEN"},
			{"unknown alias", "GET", "/_matrix/client/v3/directory/room/%23nope:kabar.test", "", "", 404, "M_NOT_FOUND"},
			{"kick without power", "POST", "/_matrix/client/v3/rooms/" + room + "/kick", bob, `{"user_id":"@alice:kabar.test"}`, 403, "M_FORBIDDEN"},
			{"unban not banned", "POST", "/_matrix/client/v3/rooms/" + room + "/unban", alice, `{"user_id":"@bob:kabar.test"}`, 403, "M_FORBIDDEN"},
			{"forget while joined", "POST", "/_matrix/client/v3/rooms/" + room + "/forget", alice, `{}`, 400, "M_UNKNOWN"},
			{"upgrade bad version", "POST", "/_matrix/client/v3/rooms/" + room + "/upgrade", alice, `{"new_version":"99"}`, 400, "M_UNSUPPORTED_ROOM_VERSION"},
			{"upgrade not member", "POST", "/_matrix/client/v3/rooms/" + room + "/upgrade", bob, `{"new_version":"11"}`, 403, "M_FORBIDDEN"},
			{"redact unknown event", "PUT", "/_matrix/client/v3/rooms/" + room + "/redact/%24nope/r1", alice, `{}`, 404, "M_NOT_FOUND"},
			{"report bad score", "POST", "/_matrix/client/v3/rooms/" + room + "/report", alice, `{"score":5}`, 400, "M_INVALID_PARAM"},
			{"report unknown room", "POST", "/_matrix/client/v3/rooms/%21nope:kabar.test/report", alice, `{}`, 404, "M_NOT_FOUND"},
			{"timestamp bad dir", "GET", "/_matrix/client/v1/rooms/" + room + "/timestamp_to_event?ts=1&dir=x", alice, "", 400, "M_INVALID_PARAM"},
			{"public rooms bad since", "GET", "/_matrix/client/v3/publicRooms?since=zzz", "", "", 400, "M_INVALID_PARAM"},
			{"directory visibility unknown room", "GET", "/_matrix/client/v3/directory/list/room/%21nope:kabar.test", "", "", 404, "M_NOT_FOUND"},
		}
		runErrCases(t, ts, cases)
	})
}
