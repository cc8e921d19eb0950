package eventauth

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/kabarchat/kabar/federation/event"
)

// authCase checks one event against a prepared room, in every room version
// the `in` predicate selects (all when nil). deny is a substring of the
// expected reason; empty means allowed.
type authCase struct {
	name  string
	in    func(*event.RoomVersion) bool
	setup func(r *testRoom)
	ev    func(r *testRoom) *testEvent
	deny  string
}

func runAuthCases(t *testing.T, cases []authCase) {
	t.Helper()
	for _, tc := range cases {
		pred := tc.in
		if pred == nil {
			pred = func(*event.RoomVersion) bool { return true }
		}
		for _, v := range versionsWhere(pred) {
			t.Run(tc.name+"/v"+v, func(t *testing.T) {
				r := newTestRoom(v)
				if tc.setup != nil {
					tc.setup(r)
				}
				err := Check(tc.ev(r), r.state)
				assertAuth(t, err, tc.deny)
			})
		}
	}
}

func assertAuth(t *testing.T, err error, wantDeny string) {
	t.Helper()
	if wantDeny == "" {
		if err != nil {
			t.Fatalf("denied: %v", err)
		}
		return
	}
	var ae *Error
	if !errors.As(err, &ae) {
		t.Fatalf("allowed or wrong error type (%v), want denial %q", err, wantDeny)
	}
	if !strings.Contains(ae.Reason, wantDeny) {
		t.Fatalf("reason %q, want it to contain %q", ae.Reason, wantDeny)
	}
}

func join(user string) func(r *testRoom) *testEvent {
	return memberEv(user, user, "join")
}

func memberEv(sender, target, membership string) func(r *testRoom) *testEvent {
	return func(r *testRoom) *testEvent {
		return r.ev(TypeMember, strp(target), sender, memberContentJSON(membership))
	}
}

func hasKnock(rv *event.RoomVersion) bool        { return rv.Knock }
func noKnock(rv *event.RoomVersion) bool         { return !rv.Knock }
func hasRestricted(rv *event.RoomVersion) bool   { return rv.Restricted }
func noRestricted(rv *event.RoomVersion) bool    { return !rv.Restricted }
func hasKnockRestr(rv *event.RoomVersion) bool   { return rv.KnockRestricted }
func noKnockRestr(rv *event.RoomVersion) bool    { return !rv.KnockRestricted }
func creatorInfinite(rv *event.RoomVersion) bool { return rv.RoomIDFromCreate }

func TestJoin(t *testing.T) {
	runAuthCases(t, []authCase{
		{name: "public join", ev: join(bob)},
		{name: "join for another user", ev: memberEv(alice, bob, "join"), deny: "another user"},
		{name: "banned user joins", setup: func(r *testRoom) { r.memberBy(alice, bob, memberContentJSON("ban")) },
			ev: join(bob), deny: "banned"},
		{name: "invite-only without invite", setup: func(r *testRoom) { r.joinRule("invite") },
			ev: join(bob), deny: "invite-only"},
		{name: "invite-only with invite", setup: func(r *testRoom) {
			r.joinRule("invite").memberBy(alice, bob, memberContentJSON("invite"))
		}, ev: join(bob)},
		{name: "invite-only rejoin while joined", setup: func(r *testRoom) { r.joinRule("invite").member(bob, "join") },
			ev: join(bob)},
		{name: "no join rules event means invite", setup: func(r *testRoom) { r.drop(TypeJoinRules, "") },
			ev: join(bob), deny: "invite-only"},
		{name: "private join rule", setup: func(r *testRoom) { r.joinRule("private") },
			ev: join(bob), deny: "does not allow"},
		{name: "knock rule with invite", in: hasKnock, setup: func(r *testRoom) {
			r.joinRule("knock").memberBy(alice, bob, memberContentJSON("invite"))
		}, ev: join(bob)},
		{name: "knock rule without invite", in: hasKnock, setup: func(r *testRoom) { r.joinRule("knock") },
			ev: join(bob), deny: "invite-only"},
		{name: "knock rule before knocking existed", in: noKnock, setup: func(r *testRoom) {
			r.joinRule("knock").memberBy(alice, bob, memberContentJSON("invite"))
		}, ev: join(bob), deny: "does not allow"},
		{name: "first join of the creator", setup: func(r *testRoom) { r.drop(TypeMember, alice).drop(TypeJoinRules, "") },
			ev: func(r *testRoom) *testEvent {
				e := join(alice)(r)
				e.prev = []string{r.create.id}
				return e
			}},
		{name: "first join of someone else", setup: func(r *testRoom) { r.drop(TypeJoinRules, "") },
			ev: func(r *testRoom) *testEvent {
				e := join(bob)(r)
				e.prev = []string{r.create.id}
				return e
			}, deny: "invite-only"},
		{name: "no membership", ev: func(r *testRoom) *testEvent {
			return r.ev(TypeMember, strp(bob), bob, `{"displayname":"Bob"}`)
		}, deny: "needs a state key and a membership"},
		{name: "membership not a string", ev: func(r *testRoom) *testEvent {
			return r.ev(TypeMember, strp(bob), bob, `{"membership":1}`)
		}, deny: "membership"},
		{name: "unknown membership", ev: memberEv(bob, bob, "lurk"), deny: "unknown membership"},
		{name: "knock membership before v7", in: noKnock, setup: func(r *testRoom) { r.joinRule("knock") },
			ev: memberEv(bob, bob, "knock"), deny: "unknown membership"},
	})
}

func restrictedJoin(via string) func(r *testRoom) *testEvent {
	return func(r *testRoom) *testEvent {
		return r.ev(TypeMember, strp(bob), bob,
			`{"membership":"join","join_authorised_via_users_server":"`+via+`"}`)
	}
}

func TestRestrictedJoin(t *testing.T) {
	restricted := func(r *testRoom) { r.joinRule("restricted") }
	knockRestricted := func(r *testRoom) { r.joinRule("knock_restricted") }
	runAuthCases(t, []authCase{
		{name: "vouched by joined admin", in: hasRestricted, setup: restricted, ev: restrictedJoin(alice)},
		{name: "without via", in: hasRestricted, setup: restricted, ev: join(bob), deny: "join_authorised_via_users_server"},
		{name: "via user not joined", in: hasRestricted, setup: restricted, ev: restrictedJoin(carol), deny: "not joined"},
		{name: "via user cannot invite", in: hasRestricted, setup: func(r *testRoom) {
			restricted(r)
			r.member(carol, "join")
			if r.rv.RoomIDFromCreate {
				r.pl(`{"invite":10}`)
			} else {
				r.pl(`{"invite":10,"users":{"@alice:a.test":100}}`)
			}
		}, ev: restrictedJoin(carol), deny: "may not invite"},
		{name: "invited user needs no via", in: hasRestricted, setup: func(r *testRoom) {
			restricted(r)
			r.memberBy(alice, bob, memberContentJSON("invite"))
		}, ev: join(bob)},
		{name: "restricted before v8", in: noRestricted, setup: restricted, ev: restrictedJoin(alice), deny: "does not allow"},
		{name: "knock_restricted vouched", in: hasKnockRestr, setup: knockRestricted, ev: restrictedJoin(alice)},
		{name: "knock_restricted without via", in: hasKnockRestr, setup: knockRestricted, ev: join(bob), deny: "join_authorised_via"},
		{name: "knock_restricted before v10", in: noKnockRestr, setup: knockRestricted, ev: restrictedJoin(alice), deny: "does not allow"},
		{name: "knock on knock_restricted", in: hasKnockRestr, setup: knockRestricted, ev: memberEv(bob, bob, "knock")},
		{name: "knock on knock_restricted before v10", in: func(rv *event.RoomVersion) bool { return rv.Knock && !rv.KnockRestricted },
			setup: knockRestricted, ev: memberEv(bob, bob, "knock"), deny: "does not allow knocking"},
	})
}

func TestKnock(t *testing.T) {
	knock := func(r *testRoom) { r.joinRule("knock") }
	runAuthCases(t, []authCase{
		{name: "knock", in: hasKnock, setup: knock, ev: memberEv(bob, bob, "knock")},
		{name: "knock on public room", in: hasKnock, ev: memberEv(bob, bob, "knock"), deny: "does not allow knocking"},
		{name: "knock for another", in: hasKnock, setup: knock, ev: memberEv(alice, bob, "knock"), deny: "behalf"},
		{name: "knock while banned", in: hasKnock, setup: func(r *testRoom) { knock(r); r.memberBy(alice, bob, memberContentJSON("ban")) },
			ev: memberEv(bob, bob, "knock"), deny: "banned"},
		{name: "knock while invited", in: hasKnock, setup: func(r *testRoom) { knock(r); r.memberBy(alice, bob, memberContentJSON("invite")) },
			ev: memberEv(bob, bob, "knock"), deny: "invited"},
		{name: "knock while joined", in: hasKnock, setup: func(r *testRoom) { knock(r); r.member(bob, "join") },
			ev: memberEv(bob, bob, "knock"), deny: "joined"},
		{name: "retract knock", in: hasKnock, setup: func(r *testRoom) { knock(r); r.member(bob, "knock") },
			ev: memberEv(bob, bob, "leave")},
		{name: "leave while knocking before v7", in: noKnock, setup: func(r *testRoom) { r.member(bob, "knock") },
			ev: memberEv(bob, bob, "leave"), deny: "not in"},
		{name: "admin rejects knock", in: hasKnock, setup: func(r *testRoom) { knock(r); r.member(bob, "knock") },
			ev: memberEv(alice, bob, "leave")},
		{name: "admin accepts knock with invite", in: hasKnock, setup: func(r *testRoom) { knock(r); r.member(bob, "knock") },
			ev: memberEv(alice, bob, "invite")},
	})
}

func TestInvite(t *testing.T) {
	runAuthCases(t, []authCase{
		{name: "member invites", ev: memberEv(alice, bob, "invite")},
		{name: "non-member invites", ev: memberEv(carol, bob, "invite"), deny: "inviter is not joined"},
		{name: "invite joined user", setup: func(r *testRoom) { r.member(bob, "join") },
			ev: memberEv(alice, bob, "invite"), deny: "already joined"},
		{name: "invite banned user", setup: func(r *testRoom) { r.memberBy(alice, bob, memberContentJSON("ban")) },
			ev: memberEv(alice, bob, "invite"), deny: "already banned"},
		{name: "re-invite invited user", setup: func(r *testRoom) { r.memberBy(alice, bob, memberContentJSON("invite")) },
			ev: memberEv(alice, bob, "invite")},
		{name: "below invite level", setup: func(r *testRoom) {
			r.member(carol, "join")
			r.pl(`{"invite":50` + aliceUsers(r) + `}`)
		}, ev: memberEv(carol, bob, "invite"), deny: "invite level"},
		{name: "default invite level is 0", setup: func(r *testRoom) { r.member(carol, "join") },
			ev: memberEv(carol, bob, "invite")},
	})
}

// aliceUsers is the users entry giving alice 100 where she is not a creator
// with infinite power.
func aliceUsers(r *testRoom) string {
	if r.rv.RoomIDFromCreate {
		return ""
	}
	return `,"users":{"@alice:a.test":100}`
}

// plWith builds power levels content: extra top-level members, alice at
// 100 unless she is an infinite creator, and the given user/level pairs.
func plWith(r *testRoom, extra string, userLevels ...any) string {
	users := map[string]any{}
	if !r.rv.RoomIDFromCreate {
		users[alice] = 100
	}
	for i := 0; i < len(userLevels); i += 2 {
		users[userLevels[i].(string)] = userLevels[i+1]
	}
	b, _ := json.Marshal(users)
	if extra != "" {
		extra += ","
	}
	return "{" + extra + `"users":` + string(b) + "}"
}

func TestLeaveKickBan(t *testing.T) {
	modBob := func(r *testRoom) {
		r.member(bob, "join").member(carol, "join")
		r.pl(plWith(r, "", bob, 50))
	}
	runAuthCases(t, []authCase{
		{name: "leave", setup: func(r *testRoom) { r.member(bob, "join") }, ev: memberEv(bob, bob, "leave")},
		{name: "reject invite", setup: func(r *testRoom) { r.memberBy(alice, bob, memberContentJSON("invite")) },
			ev: memberEv(bob, bob, "leave")},
		{name: "leave when not in room", ev: memberEv(bob, bob, "leave"), deny: "not in"},
		{name: "banned user leaves", setup: func(r *testRoom) { r.memberBy(alice, bob, memberContentJSON("ban")) },
			ev: memberEv(bob, bob, "leave"), deny: "not in"},
		{name: "kick", setup: func(r *testRoom) { r.member(bob, "join") }, ev: memberEv(alice, bob, "leave")},
		{name: "kick by non-member", setup: func(r *testRoom) { r.member(bob, "join") },
			ev: memberEv(carol, bob, "leave"), deny: "not joined"},
		{name: "kick by user below kick level", setup: func(r *testRoom) { r.member(bob, "join").member(carol, "join") },
			ev: memberEv(carol, bob, "leave"), deny: "may not kick"},
		{name: "kick equal level", setup: modBob, ev: func(r *testRoom) *testEvent {
			r.pl(plWith(r, "", bob, 50, carol, 50))
			return memberEv(bob, carol, "leave")(r)
		}, deny: "may not kick"},
		{name: "moderator kicks", setup: modBob, ev: memberEv(bob, carol, "leave")},
		{name: "moderator kicks admin", setup: modBob, ev: memberEv(bob, alice, "leave"), deny: "may not kick"},
		{name: "unban", setup: func(r *testRoom) { r.memberBy(alice, bob, memberContentJSON("ban")) },
			ev: memberEv(alice, bob, "leave")},
		{name: "unban below ban level", setup: func(r *testRoom) {
			modBob(r)
			r.memberBy(alice, carol, memberContentJSON("ban"))
			r.pl(plWith(r, `"ban":60`, bob, 50))
		}, ev: memberEv(bob, carol, "leave"), deny: "ban level"},
		{name: "ban", setup: func(r *testRoom) { r.member(bob, "join") }, ev: memberEv(alice, bob, "ban")},
		{name: "ban non-member", ev: memberEv(alice, bob, "ban")},
		{name: "ban by non-member", ev: memberEv(carol, bob, "ban"), deny: "not joined"},
		{name: "ban below ban level", setup: func(r *testRoom) { r.member(bob, "join").member(carol, "join") },
			ev: memberEv(carol, bob, "ban"), deny: "may not ban"},
		{name: "moderator bans admin", setup: modBob, ev: memberEv(bob, alice, "ban"), deny: "may not ban"},
		{name: "moderator bans user", setup: modBob, ev: memberEv(bob, carol, "ban")},
	})
}
