package eventauth

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kabarchat/kabar/federation/event"
)

func TestParseLevel(t *testing.T) {
	v1, v6, v10 := event.LookupRoomVersion("1"), event.LookupRoomVersion("6"), event.LookupRoomVersion("10")
	cases := []struct {
		rv   *event.RoomVersion
		in   string
		want int64
		ok   bool
	}{
		{v10, `50`, 50, true},
		{v10, `-7`, -7, true},
		{v10, `"50"`, 0, false},
		{v10, `50.0`, 0, false},
		{v10, `9007199254740991`, 1<<53 - 1, true},
		{v10, `9007199254740992`, 0, false},
		{v10, `true`, 0, false},
		{v10, `null`, 0, false},
		{v6, `"50"`, 50, true},
		{v6, `" +0050 "`, 50, true},
		{v6, `"-5"`, -5, true},
		{v6, `"+-5"`, 0, false},
		{v6, `"5.5"`, 0, false},
		{v6, `"x"`, 0, false},
		{v6, `""`, 0, false},
		{v6, `50.5`, 0, false},
		{v1, `50.57`, 50, true},
		{v1, `5.114698E4`, 51146, true},
		{v1, `-1.9`, -1, true},
		{v1, `1e400`, 0, false},
	}
	for _, tc := range cases {
		got, err := parseLevel(tc.rv, json.RawMessage(tc.in))
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("v%s parseLevel(%s) = %d, %v; want %d ok=%v", tc.rv.ID, tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestPowerLevelsDefaults(t *testing.T) {
	r := newTestRoom("9")
	pl := PowerLevelsFromState(r.create, nil)
	checks := []struct {
		name      string
		got, want int64
	}{
		{"creator", pl.UserLevel(alice), 100}, {"other", pl.UserLevel(bob), 0},
		{"ban", pl.Ban, 50}, {"kick", pl.Kick, 50}, {"redact", pl.Redact, 50}, {"invite", pl.Invite, 0},
		{"state", pl.EventLevel("m.room.topic", true), 50}, {"message", pl.EventLevel("m.room.message", false), 0},
		{"notify room", pl.NotificationLevel("room"), 50},
	}
	plEv := r.ev(TypePowerLevels, strp(""), alice,
		`{"users":{"@bob:b.test":"20"},"users_default":5,"events":{"m.room.message":3},"notifications":{"room":"10"}}`)
	pl2 := PowerLevelsFromState(r.create, plEv)
	checks = append(checks, []struct {
		name      string
		got, want int64
	}{
		{"creator with PL event", pl2.UserLevel(alice), 5}, {"stringy user", pl2.UserLevel(bob), 20},
		{"events", pl2.EventLevel("m.room.message", false), 3}, {"stringy notifications", pl2.NotificationLevel("room"), 10},
	}...)
	v12 := newTestRoom("12")
	pl3 := PowerLevelsFromState(v12.create, v12.ev(TypePowerLevels, strp(""), alice, `{"users_default":5}`))
	checks = append(checks, []struct {
		name      string
		got, want int64
	}{{"v12 creator", pl3.UserLevel(alice), CreatorLevel}, {"v12 other", pl3.UserLevel(bob), 5}}...)
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
}

func plChange(sender, content string) func(r *testRoom) *testEvent {
	return func(r *testRoom) *testEvent { return r.ev(TypePowerLevels, strp(""), sender, content) }
}

func TestPowerLevelsChanges(t *testing.T) {
	preV10 := func(rv *event.RoomVersion) bool { return !rv.IntegerPowerLevels }
	v10plus := func(rv *event.RoomVersion) bool { return rv.IntegerPowerLevels }
	notif := func(rv *event.RoomVersion) bool { return rv.NotificationsPowerLevels }
	noNotif := func(rv *event.RoomVersion) bool { return !rv.NotificationsPowerLevels }
	// bob is a moderator (50) who may send power levels (events entry 50).
	mod := func(extra string) func(r *testRoom) {
		return func(r *testRoom) {
			events := `"events":{"m.room.power_levels":50}`
			switch {
			case strings.HasPrefix(extra, `"events"`):
				events = extra
			case extra != "":
				events += "," + extra
			}
			r.member(bob, "join").member(carol, "join").pl(plWith(r, events, bob, 50, carol, 10))
		}
	}
	modPL := func(r *testRoom, extra string, users ...any) *testEvent {
		users = append([]any{bob, 50, carol, 10}, users...)
		if extra != "" {
			extra = "," + extra
		}
		return plChange(bob, plWith(r, `"events":{"m.room.power_levels":50}`+extra, users...))(r)
	}
	runAuthCases(t, []authCase{
		{name: "first power levels", setup: func(r *testRoom) { r.drop(TypePowerLevels, "") }, ev: plChange(alice, `{"ban":100}`)},
		{name: "unchanged by moderator", setup: mod(""), ev: func(r *testRoom) *testEvent { return modPL(r, "") }},
		{name: "moderator lowers kick", setup: mod(""), ev: func(r *testRoom) *testEvent { return modPL(r, `"kick":40`) }},
		{name: "moderator raises ban above self", setup: mod(""), ev: func(r *testRoom) *testEvent { return modPL(r, `"ban":60`) },
			deny: "changing ban"},
		{name: "moderator changes value above self", setup: mod(`"state_default":60`),
			ev: func(r *testRoom) *testEvent { return modPL(r, `"state_default":40`) }, deny: "changing state_default"},
		{name: "moderator removes value above self", setup: mod(`"redact":60`),
			ev: func(r *testRoom) *testEvent { return modPL(r, "") }, deny: "changing redact"},
		{name: "moderator adds events entry at own level", setup: mod(""),
			ev: func(r *testRoom) *testEvent {
				return plChange(bob, plWith(r, `"events":{"m.room.power_levels":50,"m.room.name":50}`, bob, 50, carol, 10))(r)
			}},
		{name: "moderator adds events entry above self", setup: mod(""),
			ev: func(r *testRoom) *testEvent {
				return plChange(bob, plWith(r, `"events":{"m.room.power_levels":50,"m.room.name":51}`, bob, 50, carol, 10))(r)
			},
			deny: "setting events.m.room.name"},
		{name: "moderator removes events entry above self", setup: mod(`"events":{"m.room.power_levels":50,"m.room.name":60}`),
			ev: func(r *testRoom) *testEvent { return modPL(r, "") }, deny: "changing events.m.room.name"},
		{name: "notifications above self", in: notif, setup: mod(""),
			ev: func(r *testRoom) *testEvent { return modPL(r, `"notifications":{"room":60}`) }, deny: "notifications.room"},
		{name: "notifications unchecked before v6", in: noNotif, setup: mod(""),
			ev: func(r *testRoom) *testEvent { return modPL(r, `"notifications":{"room":60}`) }},
		{name: "moderator raises user to own level", setup: mod(""),
			ev: func(r *testRoom) *testEvent { return modPL(r, "", carol, 50) }},
		{name: "moderator raises user above self", setup: mod(""),
			ev: func(r *testRoom) *testEvent { return modPL(r, "", carol, 51) }, deny: "cannot raise"},
		{name: "moderator adds user", setup: mod(""),
			ev: func(r *testRoom) *testEvent { return modPL(r, "", dave, 20) }},
		{name: "moderator demotes self", setup: mod(""),
			ev: func(r *testRoom) *testEvent { return modPL(r, "", bob, 10) }},
		{name: "moderator demotes peer", setup: func(r *testRoom) {
			r.member(bob, "join").member(carol, "join").pl(plWith(r, `"events":{"m.room.power_levels":50}`, bob, 50, carol, 50))
		}, ev: func(r *testRoom) *testEvent { return modPL(r, "", carol, 10) }, deny: "cannot change the power level"},
		{name: "moderator removes admin", setup: mod(""), in: func(rv *event.RoomVersion) bool { return !rv.RoomIDFromCreate },
			ev: func(r *testRoom) *testEvent {
				return plChange(bob, `{"events":{"m.room.power_levels":50},"users":{"@bob:b.test":50}}`)(r)
			}, deny: "cannot change the power level of @alice"},
		{name: "user keys must be user IDs", ev: plChange(alice, `{"users":{"bob":10}}`), deny: "not a user ID"},
		{name: "users must be an object", ev: plChange(alice, `{"users":[]}`), deny: "users is not an object"},
		{name: "string levels before v10", in: preV10, ev: func(r *testRoom) *testEvent {
			return plChange(alice, plWith(r, `"ban":"60"`, bob, "20"))(r)
		}},
		{name: "string levels from v10", in: v10plus, ev: plChange(alice, `{"ban":"60"}`), deny: "string levels"},
		{name: "string user level from v10", in: v10plus, ev: plChange(alice, `{"users":{"@bob:b.test":"20"}}`), deny: "string levels"},
		{name: "events must hold integers", ev: plChange(alice, `{"events":{"m.room.name":true}}`), deny: "not an integer"},
		{name: "below power levels event level", setup: func(r *testRoom) { r.member(bob, "join") },
			ev: plChange(bob, `{}`), deny: "needs power level"},
	})
}
