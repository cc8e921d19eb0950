package stateres

import (
	"testing"

	"github.com/kabarchat/kabar/federation/event"
)

const (
	mTopic  = "m.room.topic"
	mMember = "m.room.member"
	mPL     = "m.room.power_levels"
	mJR     = "m.room.join_rules"
)

// v2Versions are the versions using state resolution v2 or v2.1.
func v2Versions() []string {
	var out []string
	for _, v := range event.StableRoomVersions() {
		if event.LookupRoomVersion(v).StateRes >= 2 {
			out = append(out, v)
		}
	}
	return out
}

// pl returns power levels content with alice at 100 (unless she is an
// infinite creator) and extra users.
func pl(d *dag, users string) string {
	if d.rv.RoomIDFromCreate {
		return `{"users":{` + users + `}}`
	}
	if users != "" {
		users = "," + users
	}
	return `{"users":{"@alice:a.test":100` + users + `}}`
}

// graphCase is a scenario built on newDAG; the resolution of heads must
// match want (event names, "" absent).
type graphCase struct {
	name  string
	build func(d *dag)
	heads []string
	want  map[StateKey]string
}

func TestResolveV2Graphs(t *testing.T) {
	cases := []graphCase{
		{name: "ban vs power levels", build: func(d *dag) {
			d.add("PA", mPL, "", alice, pl(d, `"@bob:b.test":50`), "IMZ")
			d.add("MB", mMember, bob, alice, `{"membership":"ban"}`, "PA")
			d.add("PB", mPL, "", bob, pl(d, `"@bob:b.test":50,"@carol:c.test":50`), "PA")
		}, heads: []string{"MB", "PB"}, want: map[StateKey]string{plKey: "PA", member(bob): "MB"}},
		{name: "topic reset by kick", build: func(d *dag) {
			d.add("T1", mTopic, "", alice, `{"topic":"one"}`, "IMZ")
			d.add("PA", mPL, "", alice, pl(d, `"@bob:b.test":50`), "T1")
			d.add("T2", mTopic, "", bob, `{"topic":"two"}`, "PA")
			d.add("MB", mMember, bob, alice, `{"membership":"leave"}`, "PA")
		}, heads: []string{"T2", "MB"}, want: map[StateKey]string{topicKey: "T1", member(bob): "MB", plKey: "PA"}},
		{name: "topic basic: demotion reverts topic", build: func(d *dag) {
			d.add("T1", mTopic, "", alice, `{"topic":"one"}`, "IMZ")
			d.add("PA1", mPL, "", alice, pl(d, `"@bob:b.test":50`), "T1")
			d.add("T2", mTopic, "", bob, `{"topic":"two"}`, "PA1")
			d.add("PA2", mPL, "", alice, pl(d, `"@bob:b.test":0`), "PA1")
		}, heads: []string{"T2", "PA2"}, want: map[StateKey]string{topicKey: "T1", plKey: "PA2"}},
		{name: "topic survives unrelated power change", build: func(d *dag) {
			d.add("PA1", mPL, "", alice, pl(d, `"@bob:b.test":50`), "IMZ")
			d.add("T2", mTopic, "", bob, `{"topic":"two"}`, "PA1")
			d.add("PA2", mPL, "", alice, pl(d, `"@bob:b.test":50,"@carol:c.test":10`), "PA1")
		}, heads: []string{"T2", "PA2"}, want: map[StateKey]string{topicKey: "T2", plKey: "PA2"}},
		{name: "concurrent joins", build: func(d *dag) {
			d.add("MD", mMember, dave, dave, `{"membership":"join"}`, "IMZ")
			d.add("ME", mMember, erin, erin, `{"membership":"join"}`, "IMZ")
		}, heads: []string{"MD", "ME"}, want: map[StateKey]string{member(dave): "MD", member(erin): "ME"}},
		{name: "join rule evasion", build: func(d *dag) {
			d.add("JR", mJR, "", alice, `{"join_rule":"invite"}`, "IMZ")
			d.add("MD", mMember, dave, dave, `{"membership":"join"}`, "IMZ")
		}, heads: []string{"JR", "MD"}, want: map[StateKey]string{jrKey: "JR", member(dave): ""}},
		{name: "offtopic power levels", build: func(d *dag) {
			d.add("PA", mPL, "", alice, pl(d, `"@bob:b.test":50`), "IMZ")
			d.add("PB", mPL, "", bob, pl(d, `"@bob:b.test":50,"@carol:c.test":50`), "PA")
			d.add("PC", mPL, "", alice, pl(d, `"@bob:b.test":50,"@carol:c.test":0`), "PA")
		}, heads: []string{"PB", "PC"}, want: map[StateKey]string{plKey: "PB"}},
		{name: "higher power sorts first, lower power wins last", build: func(d *dag) {
			d.add("PA", mPL, "", alice, pl(d, `"@bob:b.test":50,"@carol:c.test":50`), "IMZ")
			d.add("JB", mJR, "", bob, `{"join_rule":"invite"}`, "PA")
			d.add("JA", mJR, "", alice, `{"join_rule":"public"}`, "PA")
		}, heads: []string{"JA", "JB"}, want: map[StateKey]string{jrKey: "JB"}},
		{name: "mainline: later power level's topic wins", build: func(d *dag) {
			d.add("PA", mPL, "", alice, pl(d, `"@bob:b.test":50`), "IMZ")
			d.add("T1", mTopic, "", alice, `{"topic":"one"}`, "PA")
			d.add("PB", mPL, "", alice, pl(d, `"@bob:b.test":50,"@carol:c.test":50`), "PA")
			d.add("T2", mTopic, "", bob, `{"topic":"two"}`, "PB")
			d.add("T3", mTopic, "", alice, `{"topic":"three"}`, "PA")
		}, heads: []string{"T1", "T2", "T3"}, want: map[StateKey]string{plKey: "PB", topicKey: "T2"}},
	}
	for _, tc := range cases {
		for _, v := range v2Versions() {
			t.Run(tc.name+"/v"+v, func(t *testing.T) {
				d := newDAG(t, v)
				tc.build(d)
				d.expect(d.resolve(tc.heads...), tc.want)
			})
		}
	}
}

// TestTieBreaks: equal mainline positions fall back to origin_server_ts,
// then to event ID; the event sorted last is applied last and wins.
func TestTieBreaks(t *testing.T) {
	for _, tc := range []struct {
		name     string
		tsA, tsB int64
		wantA    bool
	}{
		{"later timestamp wins", 200, 100, true},
		{"earlier timestamp loses", 100, 200, false},
		{"same timestamp: larger event ID wins", 100, 100, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDAG(t, "11")
			a := d.add("TA", mTopic, "", alice, `{"topic":"a"}`, "IMZ")
			b := d.add("TB", mTopic, "", alice, `{"topic":"b"}`, "IMZ")
			a.ts, b.ts = tc.tsA, tc.tsB
			want := "TB"
			if tc.wantA {
				want = "TA"
			}
			d.expect(d.resolve("TA", "TB"), map[StateKey]string{topicKey: want})
		})
	}
}

// TestPowerOrderTieBreaks checks the reverse topological power ordering
// directly: power first, then timestamp, then event ID, parents first.
func TestPowerOrderTieBreaks(t *testing.T) {
	d := newDAG(t, "11")
	d.add("PA", mPL, "", alice, pl(d, `"@bob:b.test":50,"@carol:c.test":50`), "IMZ")
	d.add("JB", mJR, "", bob, `{"join_rule":"invite"}`, "PA").ts = 5
	d.add("JC", mJR, "", carol, `{"join_rule":"invite"}`, "PA").ts = 5
	d.add("JA", mJR, "", alice, `{"join_rule":"invite"}`, "PA").ts = 9
	d.add("JZ", mJR, "", bob, `{"join_rule":"public"}`, "PA").ts = 1
	g := newGraph(d.rv, d.load)
	ids := []string{d.id("JC"), d.id("JB"), d.id("JZ"), d.id("JA"), d.id("PA")}
	if err := g.fetch(ids); err != nil {
		t.Fatal(err)
	}
	got, err := g.reverseTopologicalPowerOrder(ids)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{d.id("PA"), d.id("JA"), d.id("JZ"), d.id("JB"), d.id("JC")}
	if len(got) != len(want) {
		t.Fatalf("got %v want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v want %v", got, want)
		}
	}
}

// TestV21StartsFromEmpty shows the v12 change: in v2 the unconflicted state
// (bob already kicked) is the start of the power event checks, so bob's
// earlier power levels change is dropped; v2.1 checks it from empty state,
// using its own auth events, and keeps it.
func TestV21StartsFromEmpty(t *testing.T) {
	for _, tc := range []struct{ version, wantPL string }{{"11", "PA"}, {"12", "PB"}} {
		t.Run("v"+tc.version, func(t *testing.T) {
			d := newDAG(t, tc.version)
			d.add("PA", mPL, "", alice, pl(d, `"@bob:b.test":50`), "IMZ")
			d.add("PB", mPL, "", bob, pl(d, `"@bob:b.test":50,"@carol:c.test":10`), "PA")
			d.add("K", mMember, bob, alice, `{"membership":"leave"}`, "PA")
			s1 := copyMap(d.stateAfter[d.id("K")])
			s2 := copyMap(d.stateAfter[d.id("PB")])
			s2[member(bob)] = d.id("K")
			got, err := Resolve(d.rv, []StateMap{s1, s2}, d.load)
			if err != nil {
				t.Fatal(err)
			}
			d.expect(got, map[StateKey]string{plKey: tc.wantPL, member(bob): "K"})
		})
	}
}
