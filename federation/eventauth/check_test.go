package eventauth

import (
	"fmt"
	"testing"

	"github.com/kabarchat/kabar/federation/event"
)

func createEv(r *testRoom, sender, content string, prev ...string) *testEvent {
	e := r.ev(TypeCreate, strp(""), sender, content)
	e.prev = prev
	if r.rv.RoomIDFromCreate {
		e.room = ""
	}
	return e
}

func TestCreate(t *testing.T) {
	v11plus := func(rv *event.RoomVersion) bool { return rv.CreatorInSender }
	preV11 := func(rv *event.RoomVersion) bool { return !rv.CreatorInSender }
	runAuthCases(t, []authCase{
		{name: "valid", ev: func(r *testRoom) *testEvent {
			return createEv(r, alice, fmt.Sprintf(`{"creator":%q,"room_version":%q}`, alice, r.rv.ID))
		}},
		{name: "with prev events", ev: func(r *testRoom) *testEvent {
			return createEv(r, alice, fmt.Sprintf(`{"creator":%q}`, alice), "$x")
		}, deny: "previous events"},
		{name: "unknown room version", ev: func(r *testRoom) *testEvent {
			return createEv(r, alice, fmt.Sprintf(`{"creator":%q,"room_version":"99"}`, alice))
		}, deny: "unknown room_version"},
		{name: "room version not a string", ev: func(r *testRoom) *testEvent {
			return createEv(r, alice, fmt.Sprintf(`{"creator":%q,"room_version":1}`, alice))
		}, deny: "unknown room_version"},
		{name: "missing creator before v11", in: preV11, ev: func(r *testRoom) *testEvent {
			return createEv(r, alice, `{}`)
		}, deny: "no creator"},
		{name: "no creator needed from v11", in: v11plus, ev: func(r *testRoom) *testEvent {
			return createEv(r, alice, `{}`)
		}},
		{name: "room server differs from sender", in: func(rv *event.RoomVersion) bool { return !rv.RoomIDFromCreate },
			ev: func(r *testRoom) *testEvent {
				return createEv(r, bob, fmt.Sprintf(`{"creator":%q}`, bob))
			}, deny: "room ID server"},
		{name: "v12 create with room_id", in: creatorInfinite, ev: func(r *testRoom) *testEvent {
			e := createEv(r, alice, `{}`)
			e.room = "!other"
			return e
		}, deny: "has a room_id"},
		{name: "v12 additional creators", in: creatorInfinite, ev: func(r *testRoom) *testEvent {
			return createEv(r, alice, `{"additional_creators":["@bob:b.test"]}`)
		}},
		{name: "v12 bad additional creators", in: creatorInfinite, ev: func(r *testRoom) *testEvent {
			return createEv(r, alice, `{"additional_creators":["bob"]}`)
		}, deny: "additional_creators"},
		{name: "v12 additional creators not a list", in: creatorInfinite, ev: func(r *testRoom) *testEvent {
			return createEv(r, alice, `{"additional_creators":"@bob:b.test"}`)
		}, deny: "additional_creators"},
	})
}

func message(sender string) func(r *testRoom) *testEvent {
	return func(r *testRoom) *testEvent { return r.ev("m.room.message", nil, sender, `{"body":"hi"}`) }
}

func stateEv(typ, sk, sender string) func(r *testRoom) *testEvent {
	return func(r *testRoom) *testEvent { return r.ev(typ, strp(sk), sender, `{}`) }
}

func TestGeneralRules(t *testing.T) {
	aliases := func(rv *event.RoomVersion) bool { return rv.SpecialCaseAliases }
	runAuthCases(t, []authCase{
		{name: "member sends message", setup: func(r *testRoom) { r.member(bob, "join") }, ev: message(bob)},
		{name: "non-member sends message", ev: message(bob), deny: "not joined"},
		{name: "invited user sends message", setup: func(r *testRoom) { r.memberBy(alice, bob, memberContentJSON("invite")) },
			ev: message(bob), deny: "not joined"},
		{name: "no create event", setup: func(r *testRoom) { r.drop(TypeCreate, "") }, ev: message(alice), deny: "no create"},
		{name: "auth event from another room", setup: func(r *testRoom) { r.state[StateKeyTuple{TypeMember, alice}].(*testEvent).room = "!other:a.test" },
			ev: message(alice), deny: "another room"},
		{name: "v12 room ID not from create", in: creatorInfinite, ev: func(r *testRoom) *testEvent {
			e := message(alice)(r)
			e.room = "!elsewhere"
			return e
		}, deny: "room ID does not match"},
		{name: "m.federate false blocks other servers", setup: func(r *testRoom) {
			r.create.content = `{"creator":"@alice:a.test","m.federate":false}`
			r.member(bob, "join")
		}, ev: message(bob), deny: "does not federate"},
		{name: "m.federate false allows same server", setup: func(r *testRoom) {
			r.create.content = `{"creator":"@alice:a.test","m.federate":false}`
			r.member(dave, "join")
		}, ev: message(dave)},
		{name: "state below state_default", setup: func(r *testRoom) { r.member(bob, "join") },
			ev: stateEv("m.room.topic", "", bob), deny: "needs power level 50"},
		{name: "state at events level", setup: func(r *testRoom) {
			r.member(bob, "join").pl(plWith(r, `"events":{"m.room.topic":0}`))
		}, ev: stateEv("m.room.topic", "", bob)},
		{name: "message below events_default", setup: func(r *testRoom) {
			r.member(bob, "join").pl(plWith(r, `"events_default":10`))
		}, ev: message(bob), deny: "needs power level 10"},
		{name: "no power levels: state_default 50 for non-creators", setup: func(r *testRoom) {
			r.drop(TypePowerLevels, "").member(bob, "join")
		}, ev: stateEv("m.room.topic", "", bob), deny: "needs power level 50"},
		{name: "no power levels: creator has power", setup: func(r *testRoom) { r.drop(TypePowerLevels, "") },
			ev: stateEv("m.room.topic", "", alice)},
		{name: "state key of another user", ev: stateEv("org.example.x", bob, alice), deny: "reserved"},
		{name: "state key of self", ev: stateEv("org.example.x", alice, alice)},
		{name: "third party invite at invite level", setup: func(r *testRoom) { r.member(bob, "join") },
			ev: stateEv(TypeThirdPartyInvite, "tok", bob)},
		{name: "third party invite below invite level", setup: func(r *testRoom) {
			r.member(bob, "join").pl(plWith(r, `"invite":5`))
		}, ev: stateEv(TypeThirdPartyInvite, "tok", bob), deny: "invite level"},
		{name: "aliases from own server", in: aliases, ev: stateEv(TypeAliases, "b.test", bob)},
		{name: "aliases for another server", in: aliases, ev: stateEv(TypeAliases, "a.test", bob), deny: "sender's server"},
		{name: "aliases is normal state from v6", in: func(rv *event.RoomVersion) bool { return !rv.SpecialCaseAliases },
			setup: func(r *testRoom) { r.member(bob, "join") }, ev: stateEv(TypeAliases, "b.test", bob), deny: "needs power level"},
	})
}

func TestRedactionRule(t *testing.T) {
	format1 := func(rv *event.RoomVersion) bool { return rv.EventFormat == 1 }
	later := func(rv *event.RoomVersion) bool { return rv.EventFormat != 1 }
	redaction := func(sender, redacts string) func(r *testRoom) *testEvent {
		return func(r *testRoom) *testEvent {
			e := message(sender)(r)
			e.typ, e.redacts, e.content = TypeRedaction, redacts, `{}`
			if sender == bob {
				e.id = "$r:b.test"
			}
			return e
		}
	}
	bobJoined := func(r *testRoom) { r.member(bob, "join") }
	runAuthCases(t, []authCase{
		{name: "moderator redacts", in: format1, ev: redaction(alice, "$x:b.test")},
		{name: "user redacts own server's event", in: format1, setup: bobJoined, ev: redaction(bob, "$x:b.test")},
		{name: "user redacts other server's event", in: format1, setup: bobJoined, ev: redaction(bob, "$x:a.test"), deny: "redact level"},
		{name: "redaction is a normal event from v3", in: later, setup: bobJoined, ev: redaction(bob, "$x")},
		{name: "redaction needs its events level from v3", in: later, setup: func(r *testRoom) {
			r.member(bob, "join").pl(plWith(r, `"events":{"m.room.redaction":20}`))
		}, ev: redaction(bob, "$x"), deny: "needs power level 20"},
	})
}

func TestCreators(t *testing.T) {
	addCreators := func(r *testRoom) {
		r.create.content = `{"additional_creators":["@bob:b.test"]}`
		r.member(bob, "join").member(carol, "join")
	}
	runAuthCases(t, []authCase{
		{name: "additional creator is infinite", in: creatorInfinite, setup: func(r *testRoom) {
			addCreators(r)
			r.pl(plWith(r, "", carol, 1<<53-1))
		}, ev: memberEv(bob, carol, "ban")},
		{name: "creators cannot ban each other", in: creatorInfinite, setup: addCreators,
			ev: memberEv(bob, alice, "ban"), deny: "may not ban"},
		{name: "power levels cannot list the creator", in: creatorInfinite,
			ev: func(r *testRoom) *testEvent {
				return r.ev(TypePowerLevels, strp(""), alice, `{"users":{"@alice:a.test":100}}`)
			}, deny: "room creator"},
		{name: "power levels cannot list an additional creator", in: creatorInfinite, setup: addCreators,
			ev: func(r *testRoom) *testEvent {
				return r.ev(TypePowerLevels, strp(""), alice, `{"users":{"@bob:b.test":100}}`)
			}, deny: "room creator"},
		{name: "additional creators ignored before v12", in: func(rv *event.RoomVersion) bool { return rv.CreatorInSender && !rv.RoomIDFromCreate },
			setup: func(r *testRoom) {
				r.create.content = `{"additional_creators":["@bob:b.test"]}`
				r.member(bob, "join").member(carol, "join")
			}, ev: memberEv(bob, carol, "ban"), deny: "may not ban"},
		{name: "creator from content before v11", in: func(rv *event.RoomVersion) bool { return !rv.CreatorInSender },
			setup: func(r *testRoom) {
				r.create.content = `{"creator":"@bob:b.test"}`
				r.drop(TypePowerLevels, "").member(bob, "join")
			}, ev: stateEv("m.room.topic", "", bob)},
	})
}
