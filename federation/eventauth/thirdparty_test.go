package eventauth

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"testing"
)

// tpInvite builds a third-party invite member event for mxid, signed by key.
func tpInvite(sender, target, mxid, token string, key ed25519.PrivateKey) func(r *testRoom) *testEvent {
	return func(r *testRoom) *testEvent {
		signedJSON := fmt.Sprintf(`{"mxid":%q,"token":%q}`, mxid, token)
		sig := base64.RawStdEncoding.EncodeToString(ed25519.Sign(key, []byte(signedJSON)))
		content := fmt.Sprintf(`{"membership":"invite","third_party_invite":{"display_name":"B","signed":`+
			`{"mxid":%q,"signatures":{"id.test":{"ed25519:0":%q}},"token":%q}}}`, mxid, sig, token)
		return r.ev(TypeMember, strp(target), sender, content)
	}
}

func TestThirdPartyInvite(t *testing.T) {
	key := ed25519.NewKeyFromSeed(make([]byte, 32))
	other := ed25519.NewKeyFromSeed([]byte("0123456789abcdef0123456789abcdef"))
	pub := base64.RawStdEncoding.EncodeToString(key.Public().(ed25519.PublicKey))
	pubURL := base64.RawURLEncoding.EncodeToString(key.Public().(ed25519.PublicKey))
	invite := func(content string) func(r *testRoom) {
		return func(r *testRoom) {
			r.put(r.ev(TypeThirdPartyInvite, strp("tok"), alice, content))
		}
	}
	single := invite(fmt.Sprintf(`{"display_name":"b","public_key":%q}`, pub))
	runAuthCases(t, []authCase{
		{name: "valid single key", setup: single, ev: tpInvite(alice, bob, bob, "tok", key)},
		{name: "valid key in list", setup: invite(fmt.Sprintf(`{"public_key":"AAAA","public_keys":[{"public_key":%q}]}`, pubURL)),
			ev: tpInvite(alice, bob, bob, "tok", key)},
		{name: "wrong key", setup: single, ev: tpInvite(alice, bob, bob, "tok", other), deny: "signature"},
		{name: "mxid mismatch", setup: single, ev: tpInvite(alice, bob, carol, "tok", key), deny: "mxid"},
		{name: "unknown token", setup: single, ev: tpInvite(alice, bob, bob, "nope", key), deny: "no third party invite"},
		{name: "sender differs from invite sender", setup: func(r *testRoom) { single(r); r.member(dave, "join") },
			ev: tpInvite(dave, bob, bob, "tok", key), deny: "another user"},
		{name: "target banned", setup: func(r *testRoom) { single(r); r.memberBy(alice, bob, memberContentJSON("ban")) },
			ev: tpInvite(alice, bob, bob, "tok", key), deny: "banned"},
		{name: "no signed block", setup: single, ev: func(r *testRoom) *testEvent {
			return r.ev(TypeMember, strp(bob), alice, `{"membership":"invite","third_party_invite":{}}`)
		}, deny: "no signed block"},
		{name: "signed without token", setup: single, ev: func(r *testRoom) *testEvent {
			return r.ev(TypeMember, strp(bob), alice, `{"membership":"invite","third_party_invite":{"signed":{"mxid":"@bob:b.test"}}}`)
		}, deny: "mxid and token"},
	})
}

func TestStateKeysNeeded(t *testing.T) {
	k := func(typ, sk string) StateKeyTuple { return StateKeyTuple{typ, sk} }
	base := []StateKeyTuple{k(TypeCreate, ""), k(TypePowerLevels, ""), k(TypeMember, alice)}
	cases := []struct {
		name    string
		version string
		ev      func(r *testRoom) *testEvent
		want    []StateKeyTuple
	}{
		{"create", "9", func(r *testRoom) *testEvent { return createEv(r, alice, `{}`) }, nil},
		{"message", "9", message(alice), base},
		{"message v12 has no create", "12", message(alice), base[1:]},
		{"self join", "9", join(alice), append(base, k(TypeJoinRules, ""))},
		{"invite", "9", memberEv(alice, bob, "invite"), append(base, k(TypeMember, bob), k(TypeJoinRules, ""))},
		{"leave", "9", memberEv(alice, bob, "leave"), append(base, k(TypeMember, bob))},
		{"knock", "9", memberEv(alice, alice, "knock"), append(base, k(TypeJoinRules, ""))},
		{"third party invite", "9", tpInvite(alice, bob, bob, "tok", ed25519.NewKeyFromSeed(make([]byte, 32))),
			append(base, k(TypeMember, bob), k(TypeJoinRules, ""), k(TypeThirdPartyInvite, "tok"))},
		{"restricted join", "9", func(r *testRoom) *testEvent {
			return r.ev(TypeMember, strp(alice), alice, `{"membership":"join","join_authorised_via_users_server":"@carol:c.test"}`)
		}, append(base, k(TypeJoinRules, ""), k(TypeMember, carol))},
		{"via ignored before v8", "7", func(r *testRoom) *testEvent {
			return r.ev(TypeMember, strp(alice), alice, `{"membership":"join","join_authorised_via_users_server":"@carol:c.test"}`)
		}, append(base, k(TypeJoinRules, ""))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := StateKeysNeeded(tc.ev(newTestRoom(tc.version)))
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got %v\nwant %v", got, tc.want)
			}
		})
	}
}

func TestCheckAuthEvents(t *testing.T) {
	cases := []struct {
		name    string
		version string
		pick    func(r *testRoom) []Event
		deny    string
	}{
		{"exact selection", "9", func(r *testRoom) []Event { return r.pick(TypeCreate, TypePowerLevels, TypeMember) }, ""},
		{"subset", "9", func(r *testRoom) []Event { return r.pick(TypeCreate) }, ""},
		{"missing create", "9", func(r *testRoom) []Event { return r.pick(TypePowerLevels) }, "no create"},
		{"v12 without create", "12", func(r *testRoom) []Event { return r.pick(TypePowerLevels, TypeMember) }, ""},
		{"v12 with create", "12", func(r *testRoom) []Event { return r.pick(TypeCreate, TypePowerLevels) }, "not needed"},
		{"duplicate", "9", func(r *testRoom) []Event {
			return append(r.pick(TypeCreate, TypePowerLevels), r.ev(TypePowerLevels, strp(""), alice, `{}`))
		}, "duplicate"},
		{"unneeded join rules", "9", func(r *testRoom) []Event { return r.pick(TypeCreate, TypeJoinRules) }, "not needed"},
		{"other room", "9", func(r *testRoom) []Event {
			evs := r.pick(TypeCreate, TypePowerLevels)
			evs[1].(*testEvent).room = "!x:a.test"
			return evs
		}, "another room"},
		{"message as auth event", "9", func(r *testRoom) []Event {
			return append(r.pick(TypeCreate), message(alice)(r))
		}, "not a state event"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newTestRoom(tc.version)
			ev := r.ev("m.room.message", nil, alice, `{}`)
			assertAuth(t, CheckAuthEvents(ev, tc.pick(r)), tc.deny)
		})
	}
}

// pick returns the state events of the given types with state key "" or alice.
func (r *testRoom) pick(types ...string) []Event {
	var out []Event
	for _, typ := range types {
		for key, ev := range r.state {
			if key.EventType == typ && (key.StateKey == "" || key.StateKey == alice) {
				out = append(out, ev)
			}
		}
	}
	return out
}
