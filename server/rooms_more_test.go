package main

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/kabarchat/kabar/configs"
)

const roomsAdminSecret = "rooms-admin-secret"

// roomsMoreConfig opens registration and enables shared-secret admin
// registration (for the server-admin alias deletion case).
func roomsMoreConfig(c *configs.Config) {
	openRegistration(c)
	c.Registration.SharedSecret = roomsAdminSecret
}

// registerRoomsAdmin registers a server admin through the shared-secret API.
func registerRoomsAdmin(t *testing.T, ts *testServer, user string) *mautrix.Client {
	t.Helper()
	_, body := ts.do(t, "GET", "/_synapse/admin/v1/register", "", nil)
	var n struct{ Nonce string }
	if err := json.Unmarshal(body, &n); err != nil {
		t.Fatal(err)
	}
	req := map[string]any{"nonce": n.Nonce, "username": user, "password": "pw", "admin": true,
		"mac": macFor(roomsAdminSecret, n.Nonce, user, "pw", "admin")}
	code, body := ts.do(t, "POST", "/_synapse/admin/v1/register", "", jsonBody(req))
	var r struct {
		UserID      id.UserID `json:"user_id"`
		AccessToken string    `json:"access_token"`
	}
	if json.Unmarshal(body, &r); code != 200 {
		t.Fatalf("register admin: %d %s", code, body)
	}
	return newClient(t, ts, r.UserID, r.AccessToken)
}

func mustCreate(t *testing.T, cli *mautrix.Client, req *mautrix.ReqCreateRoom) id.RoomID {
	t.Helper()
	resp, err := cli.CreateRoom(context.Background(), req)
	if err != nil {
		t.Fatalf("createRoom: %v", err)
	}
	return resp.RoomID
}

func membershipOf(t *testing.T, cli *mautrix.Client, room id.RoomID, user id.UserID) event.MemberEventContent {
	t.Helper()
	var m event.MemberEventContent
	if err := cli.StateEvent(context.Background(), room, event.StateMember, string(user), &m); err != nil {
		t.Fatalf("member state of %s: %v", user, err)
	}
	return m
}

// TestRoomsKnock: knock, then accepted by an invite or denied by a kick
// (client-server-api "Knocking on rooms").
func TestRoomsKnock(t *testing.T) {
	eachServer(t, roomsMoreConfig, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		alice, bob, carol := registerClient(t, ts, "alice"), registerClient(t, ts, "bob"), registerClient(t, ts, "carol")
		room := mustCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "private_chat", InitialState: []*event.Event{{
			Type: event.StateJoinRules, Content: event.Content{Raw: map[string]any{"join_rule": "knock"}}}}})
		if _, err := bob.JoinRoomByID(ctx, room); httpStatus(err) != 403 {
			t.Fatalf("join without invite: %v", err)
		}
		for _, c := range []*mautrix.Client{bob, carol} {
			if _, err := c.KnockRoom(ctx, string(room), &mautrix.ReqKnockRoom{Reason: "let me in"}); err != nil {
				t.Fatalf("knock: %v", err)
			}
		}
		knocks, err := alice.Members(ctx, room, mautrix.ReqMembers{Membership: event.MembershipKnock})
		if err != nil || len(knocks.Chunk) != 2 {
			t.Fatalf("knocking members: %+v %v", knocks, err)
		}
		// Accept bob: invite, then he joins.
		if _, err := alice.InviteUser(ctx, room, &mautrix.ReqInviteUser{UserID: bob.UserID}); err != nil {
			t.Fatalf("invite knocker: %v", err)
		}
		if _, err := bob.JoinRoomByID(ctx, room); err != nil {
			t.Fatalf("join after accepted knock: %v", err)
		}
		// Deny carol: a kick turns the knock into leave.
		if _, err := alice.KickUser(ctx, room, &mautrix.ReqKickUser{UserID: carol.UserID, Reason: "no"}); err != nil {
			t.Fatalf("deny knock: %v", err)
		}
		if m := membershipOf(t, alice, room, carol.UserID); m.Membership != event.MembershipLeave {
			t.Fatalf("denied knock: %+v", m)
		}
		if _, err := carol.JoinRoomByID(ctx, room); httpStatus(err) != 403 {
			t.Fatalf("denied knocker joins: %v", err)
		}
		// A public room cannot be knocked on.
		pub := mustCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat"})
		if _, err := carol.KnockRoom(ctx, string(pub), nil); httpStatus(err) != 403 {
			t.Fatalf("knock on public room: %v", err)
		}
	})
}

// TestRoomsTimestampAndReports: /timestamp_to_event both ways, and both
// report endpoints.
func TestRoomsTimestampAndReports(t *testing.T) {
	eachServer(t, roomsMoreConfig, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		alice, bob := registerClient(t, ts, "alice"), registerClient(t, ts, "bob")
		room := mustCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat"})
		first, err := alice.SendText(ctx, room, "first")
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
		mid := time.Now()
		time.Sleep(20 * time.Millisecond)
		second, err := alice.SendText(ctx, room, "second")
		if err != nil {
			t.Fatal(err)
		}
		fwd, err := alice.TimestampToEvent(ctx, room, mid, mautrix.DirectionForward)
		if err != nil || fwd.EventID != second.EventID {
			t.Fatalf("forward: %+v %v", fwd, err)
		}
		back, err := alice.TimestampToEvent(ctx, room, mid, mautrix.DirectionBackward)
		if err != nil || back.EventID != first.EventID {
			t.Fatalf("backward: %+v %v", back, err)
		}
		if _, err := alice.TimestampToEvent(ctx, room, time.Now().Add(time.Hour), mautrix.DirectionForward); httpStatus(err) != 404 {
			t.Fatalf("nothing after: %v", err)
		}
		if _, err := bob.JoinRoomByID(ctx, room); err != nil {
			t.Fatal(err)
		}
		if err := bob.ReportEvent(ctx, room, first.EventID, "spam"); err != nil {
			t.Fatalf("report event: %v", err)
		}
		if err := bob.ReportRoom(ctx, room, "bad room"); err != nil {
			t.Fatalf("report room: %v", err)
		}
	})
}

// TestRoomsDirectoryVisibility: PUT/GET /directory/list/room/{roomId}, and
// /publicRooms follows it.
func TestRoomsDirectoryVisibility(t *testing.T) {
	eachServer(t, roomsMoreConfig, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		alice, bob := registerClient(t, ts, "alice"), registerClient(t, ts, "bob")
		room := mustCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat", Name: "Hidden"})
		vis := func() string {
			var r struct{ Visibility string }
			if _, err := bob.MakeRequest(ctx, "GET", bob.BuildClientURL("v3", "directory", "list", "room", room), nil, &r); err != nil {
				t.Fatalf("get visibility: %v", err)
			}
			return r.Visibility
		}
		set := func(cli *mautrix.Client, v string) error {
			_, err := cli.MakeRequest(ctx, "PUT", cli.BuildClientURL("v3", "directory", "list", "room", room), map[string]string{"visibility": v}, nil)
			return err
		}
		if v := vis(); v != "private" {
			t.Fatalf("default visibility %q", v)
		}
		if err := set(alice, "public"); err != nil {
			t.Fatal(err)
		}
		if v := vis(); v != "public" {
			t.Fatalf("after publish %q", v)
		}
		if list, err := bob.PublicRooms(ctx, &mautrix.ReqPublicRooms{}); err != nil || len(list.Chunk) != 1 || list.Chunk[0].RoomID != room {
			t.Fatalf("listed: %+v %v", list, err)
		}
		if _, err := bob.JoinRoomByID(ctx, room); err != nil {
			t.Fatal(err)
		}
		if err := set(bob, "private"); httpStatus(err) != 403 {
			t.Fatalf("member without power unpublishes: %v", err)
		}
		if err := set(alice, "private"); err != nil {
			t.Fatal(err)
		}
		if list, err := bob.PublicRooms(ctx, &mautrix.ReqPublicRooms{}); err != nil || len(list.Chunk) != 0 {
			t.Fatalf("unlisted: %+v %v", list, err)
		}
	})
}

// TestRoomsMembersFilters: /members with at (a /sync token), membership and
// not_membership.
func TestRoomsMembersFilters(t *testing.T) {
	eachServer(t, roomsMoreConfig, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		alice, bob, carol := registerClient(t, ts, "alice"), registerClient(t, ts, "bob"), registerClient(t, ts, "carol")
		room := mustCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat"})
		sync, err := alice.SyncRequest(ctx, 0, "", "", false, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bob.JoinRoomByID(ctx, room); err != nil {
			t.Fatal(err)
		}
		if _, err := alice.InviteUser(ctx, room, &mautrix.ReqInviteUser{UserID: carol.UserID}); err != nil {
			t.Fatal(err)
		}
		count := func(req mautrix.ReqMembers) int {
			r, err := alice.Members(ctx, room, req)
			if err != nil {
				t.Fatalf("members %+v: %v", req, err)
			}
			return len(r.Chunk)
		}
		cases := []struct {
			name string
			req  mautrix.ReqMembers
			want int
		}{
			{"all now", mautrix.ReqMembers{}, 3},
			{"at the earlier sync", mautrix.ReqMembers{At: sync.NextBatch}, 1},
			{"joined", mautrix.ReqMembers{Membership: event.MembershipJoin}, 2},
			{"invited", mautrix.ReqMembers{Membership: event.MembershipInvite}, 1},
			{"not joined", mautrix.ReqMembers{NotMembership: event.MembershipJoin}, 1},
			{"not left", mautrix.ReqMembers{NotMembership: event.MembershipLeave}, 3},
		}
		for _, tc := range cases {
			if got := count(tc.req); got != tc.want {
				t.Errorf("%s: %d members, want %d", tc.name, got, tc.want)
			}
		}
	})
}

// TestRoomsAliasDelete: the alias creator, a member with power to set
// m.room.canonical_alias, and a server admin may delete an alias; other
// members may not (directory.yaml DELETE; Synapse's rules).
func TestRoomsAliasDelete(t *testing.T) {
	eachServer(t, roomsMoreConfig, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		alice, bob, carol := registerClient(t, ts, "alice"), registerClient(t, ts, "bob"), registerClient(t, ts, "carol")
		admin := registerRoomsAdmin(t, ts, "root")
		room := mustCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat", RoomAliasName: "main"})
		for _, c := range []*mautrix.Client{bob, carol} {
			if _, err := c.JoinRoomByID(ctx, room); err != nil {
				t.Fatal(err)
			}
		}
		for _, a := range []string{"#bob1:kabar.test", "#bob2:kabar.test", "#bob3:kabar.test"} {
			if _, err := bob.CreateAlias(ctx, id.RoomAlias(a), room); err != nil {
				t.Fatalf("bob creates %s: %v", a, err)
			}
		}
		cases := []struct {
			name  string
			cli   *mautrix.Client
			alias string
			want  int
		}{
			{"member deletes another's alias", carol, "#bob1:kabar.test", 403},
			{"member deletes the room's alias", bob, "#main:kabar.test", 403},
			{"creator deletes own alias", bob, "#bob1:kabar.test", 200},
			{"room admin deletes another's alias", alice, "#bob2:kabar.test", 200},
			{"server admin deletes an alias", admin, "#bob3:kabar.test", 200},
			{"deleted alias is gone", bob, "#bob1:kabar.test", 404},
		}
		for _, tc := range cases {
			_, err := tc.cli.DeleteAlias(ctx, id.RoomAlias(tc.alias))
			if got := httpStatus(err); (tc.want == 200 && err != nil) || (tc.want != 200 && got != tc.want) {
				t.Errorf("%s: %v, want %d", tc.name, err, tc.want)
			}
		}
	})
}

// TestRoomsProfilePropagation: a displayname or avatar change sends a new
// m.room.member event into each joined room.
func TestRoomsProfilePropagation(t *testing.T) {
	eachServer(t, roomsMoreConfig, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		alice, bob := registerClient(t, ts, "alice"), registerClient(t, ts, "bob")
		rooms := []id.RoomID{mustCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat"}),
			mustCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat"})}
		for _, r := range rooms {
			if _, err := bob.JoinRoomByID(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		if err := bob.SetDisplayName(ctx, "Bobby"); err != nil {
			t.Fatal(err)
		}
		if err := bob.SetAvatarURL(ctx, id.ContentURI{Homeserver: "kabar.test", FileID: "abc"}); err != nil {
			t.Fatal(err)
		}
		for _, r := range rooms {
			m := membershipOf(t, alice, r, bob.UserID)
			if m.Membership != event.MembershipJoin || m.Displayname != "Bobby" || string(m.AvatarURL) != "mxc://kabar.test/abc" {
				t.Fatalf("member event in %s: %+v", r, m)
			}
		}
	})
}

// TestRoomsRestrictedJoin: a restricted room (v8, v10, v12) admits members of a room
// in its allow list, and nobody else.
func TestRoomsRestrictedJoin(t *testing.T) {
	eachServer(t, roomsMoreConfig, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		alice, bob := registerClient(t, ts, "alice"), registerClient(t, ts, "bob")
		for _, version := range []string{"8", "10", "12"} {
			space := mustCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "private_chat"})
			room := mustCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "private_chat", RoomVersion: id.RoomVersion(version),
				InitialState: []*event.Event{{Type: event.StateJoinRules, Content: event.Content{Raw: map[string]any{
					"join_rule": "restricted", "allow": []any{map[string]any{"type": "m.room_membership", "room_id": string(space)}}}}}}})
			if _, err := bob.JoinRoomByID(ctx, room); httpStatus(err) != 403 {
				t.Fatalf("v%s: join without membership of the allowed room: %v", version, err)
			}
			if _, err := alice.InviteUser(ctx, space, &mautrix.ReqInviteUser{UserID: bob.UserID}); err != nil {
				t.Fatal(err)
			}
			if _, err := bob.JoinRoomByID(ctx, space); err != nil {
				t.Fatal(err)
			}
			if _, err := bob.JoinRoomByID(ctx, room); err != nil {
				t.Fatalf("v%s: join as a member of the allowed room: %v", version, err)
			}
			if m := membershipOf(t, alice, room, bob.UserID); m.Membership != event.MembershipJoin {
				t.Fatalf("v%s: membership %+v", version, m)
			}
		}
	})
}

// TestRoomsPowerLevelChanges: power level changes the auth rules refuse
// and allow (rooms/v1 auth rule for m.room.power_levels).
func TestRoomsPowerLevelChanges(t *testing.T) {
	eachServer(t, roomsMoreConfig, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		alice, bob, carol := registerClient(t, ts, "alice"), registerClient(t, ts, "bob"), registerClient(t, ts, "carol")
		room := mustCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat", RoomVersion: "11"})
		for _, c := range []*mautrix.Client{bob, carol} {
			if _, err := c.JoinRoomByID(ctx, room); err != nil {
				t.Fatal(err)
			}
		}
		change := func(cli *mautrix.Client, edit func(pl *event.PowerLevelsEventContent)) error {
			var pl event.PowerLevelsEventContent
			if err := cli.StateEvent(ctx, room, event.StatePowerLevels, "", &pl); err != nil {
				t.Fatal(err)
			}
			edit(&pl)
			_, err := cli.SendStateEvent(ctx, room, event.StatePowerLevels, "", &pl)
			return err
		}
		cases := []struct {
			name string
			cli  *mautrix.Client
			edit func(pl *event.PowerLevelsEventContent)
			want int
		}{
			{"unprivileged member promotes self", bob, func(pl *event.PowerLevelsEventContent) { pl.SetUserLevel(bob.UserID, 50) }, 403},
			{"admin promotes bob to moderator", alice, func(pl *event.PowerLevelsEventContent) { pl.SetUserLevel(bob.UserID, 50) }, 200},
			{"admin lets moderators change power levels", alice, func(pl *event.PowerLevelsEventContent) {
				pl.Events = map[string]int{event.StatePowerLevels.Type: 50}
			}, 200},
			{"moderator raises self above own level", bob, func(pl *event.PowerLevelsEventContent) { pl.SetUserLevel(bob.UserID, 100) }, 403},
			{"moderator demotes the admin", bob, func(pl *event.PowerLevelsEventContent) { pl.SetUserLevel(alice.UserID, 0) }, 403},
			{"moderator raises carol to own level", bob, func(pl *event.PowerLevelsEventContent) { pl.SetUserLevel(carol.UserID, 50) }, 200},
			{"moderator demotes an equal", bob, func(pl *event.PowerLevelsEventContent) { pl.SetUserLevel(carol.UserID, 0) }, 403},
			{"moderator changes ban level above own", bob, func(pl *event.PowerLevelsEventContent) { pl.BanPtr = ptr(99) }, 403},
			{"moderator demotes self", bob, func(pl *event.PowerLevelsEventContent) { pl.SetUserLevel(bob.UserID, 10) }, 200},
		}
		for _, tc := range cases {
			err := change(tc.cli, tc.edit)
			if got := httpStatus(err); (tc.want == 200 && err != nil) || (tc.want != 200 && got != tc.want) {
				t.Errorf("%s: %v, want %d", tc.name, err, tc.want)
			}
		}
	})
}

func ptr[T any](v T) *T { return &v }
