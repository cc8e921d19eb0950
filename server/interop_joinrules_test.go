package main

import (
	"net/url"
	"strings"
	"testing"
)

// interopJoinRules: the join rules a partner organization meets when its
// users ask into a room of the other server, each way: knocking
// (client-server-api "Knocking on rooms", server-server-api "Knocking upon
// a room") and restricted rooms that admit the members of another room
// (client-server-api "Restricted rooms", server-server-api "Restricted
// rooms": the resident server signs the join for the joining server).
func interopJoinRules(t *testing.T, hs *fedServer, r *remoteHS, alice, bob string) {
	kabar := interopSide{name: "kabar", server: hs.ServerName, token: alice, c: hs}
	remote := interopSide{name: r.Name, server: r.ServerName, token: bob, c: r}
	aliceID, bobID := "@alice:"+hs.ServerName, "@bob:"+r.ServerName
	// membershipOn waits until the side's server has user's membership in
	// room (the side's user is in it).
	membershipOn := func(t *testing.T, s interopSide, room, user, want string) {
		if s.c == hs {
			waitMembership(t, hs.testServer, room, user, want)
		} else {
			r.waitMembership(t, bob, room, user, want)
		}
	}
	for _, d := range []struct {
		owner, joiner interopSide
		joinerID      string
	}{{kabar, remote, bobID}, {remote, kabar, aliceID}} {
		via := "?via=" + url.QueryEscape(d.owner.server)
		t.Run(d.joiner.name+" knocks on "+d.owner.name, func(t *testing.T) {
			if why := r.lacks["knock"]; why != "" {
				t.Skip(why)
			}
			room := d.owner.c.call(t, "POST", "/_matrix/client/v3/createRoom", d.owner.token,
				`{"preset":"private_chat","room_version":"10","initial_state":[`+
					`{"type":"m.room.join_rules","state_key":"","content":{"join_rule":"knock"}}]}`, 200)["room_id"].(string)
			d.joiner.c.call(t, "POST", "/_matrix/client/v3/knock/"+url.PathEscape(room)+via, d.joiner.token,
				`{"reason":"let me in"}`, 200)
			membershipOn(t, d.owner, room, d.joinerID, "knock")
			d.owner.c.call(t, "POST", roomPath(room)+"/invite", d.owner.token, `{"user_id":"`+d.joinerID+`"}`, 200)
			// The invitee's server shows the invite in /sync only: its
			// user cannot read the state of a room they are not in.
			if d.joiner.c == hs {
				waitMembership(t, hs.testServer, room, d.joinerID, "invite")
			} else {
				r.waitInvite(t, bob, room)
			}
			d.joiner.c.call(t, "POST", "/_matrix/client/v3/join/"+url.PathEscape(room)+via, d.joiner.token, `{}`, 200)
			membershipOn(t, d.owner, room, d.joinerID, "join")
		})
		t.Run(d.joiner.name+" joins a restricted room on "+d.owner.name, func(t *testing.T) {
			space := d.owner.c.call(t, "POST", "/_matrix/client/v3/createRoom", d.owner.token,
				`{"preset":"public_chat","room_version":"10"}`, 200)["room_id"].(string)
			room := d.owner.c.call(t, "POST", "/_matrix/client/v3/createRoom", d.owner.token,
				`{"preset":"private_chat","room_version":"10","initial_state":[{"type":"m.room.join_rules","state_key":"",`+
					`"content":{"join_rule":"restricted","allow":[{"type":"m.room_membership","room_id":"`+space+`"}]}}]}`,
				200)["room_id"].(string)
			join := "/_matrix/client/v3/join/" + url.PathEscape(room) + via
			if code := joinCode(t, d.joiner, join); code == 200 {
				t.Fatalf("%s joined the restricted room before joining the room it allows", d.joiner.name)
			}
			d.joiner.c.call(t, "POST", "/_matrix/client/v3/join/"+url.PathEscape(space)+via, d.joiner.token, `{}`, 200)
			membershipOn(t, d.owner, space, d.joinerID, "join")
			d.joiner.c.call(t, "POST", join, d.joiner.token, `{}`, 200)
			membershipOn(t, d.owner, room, d.joinerID, "join")
		})
	}
}

// joinCode tries a join and returns the status code, whatever it is.
func joinCode(t *testing.T, s interopSide, path string) int {
	t.Helper()
	switch c := s.c.(type) {
	case *remoteHS:
		code, _ := c.do(t, "POST", path, s.token, `{}`)
		return code
	case *fedServer:
		code, _ := c.do(t, "POST", path, s.token, strings.NewReader(`{}`))
		return code
	}
	t.Fatalf("unknown client %T", s.c)
	return 0
}
