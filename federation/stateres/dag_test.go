package stateres

import (
	"fmt"
	"sort"
	"testing"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/eventauth"
)

// testEvent implements Event for graph tests.
type testEvent struct {
	id, room, typ, sender, content string
	sk                             *string
	prev, auth                     []string
	depth, ts                      int64
	rv                             *event.RoomVersion
}

func (e *testEvent) EventID() string             { return e.id }
func (e *testEvent) RoomID() string              { return e.room }
func (e *testEvent) Type() string                { return e.typ }
func (e *testEvent) StateKey() *string           { return e.sk }
func (e *testEvent) Sender() string              { return e.sender }
func (e *testEvent) Content() []byte             { return []byte(e.content) }
func (e *testEvent) PrevEventIDs() []string      { return e.prev }
func (e *testEvent) AuthEventIDs() []string      { return e.auth }
func (e *testEvent) Depth() int64                { return e.depth }
func (e *testEvent) OriginServerTS() int64       { return e.ts }
func (e *testEvent) Redacts() string             { return "" }
func (e *testEvent) Version() *event.RoomVersion { return e.rv }

const (
	alice = "@alice:a.test"
	bob   = "@bob:b.test"
	carol = "@carol:c.test"
	zara  = "@zara:z.test"
	dave  = "@dave:d.test"
	erin  = "@erin:e.test"
)

// dag builds a room event by event the way a server would: the state before
// an event is the resolution of the states after its prev events, and its
// auth events are selected from that state.
type dag struct {
	t          testing.TB
	rv         *event.RoomVersion
	room       string
	events     map[string]*testEvent
	stateAfter map[string]StateMap
	ts         int64
	loads      int
}

func (d *dag) id(name string) string {
	if d.rv.EventFormat == 1 {
		return "$" + name + ":a.test"
	}
	return "$" + name
}

// newDAG starts a room: alice creates and joins, PL alice 100, public join
// rules, then bob, carol and zara join.
func newDAG(t testing.TB, version string) *dag {
	d := &dag{t: t, rv: event.LookupRoomVersion(version), events: map[string]*testEvent{},
		stateAfter: map[string]StateMap{}}
	d.room = "!room:a.test"
	if d.rv.RoomIDFromCreate {
		d.room = "!CREATE"
	}
	create := fmt.Sprintf(`{"creator":%q,"room_version":%q}`, alice, version)
	d.add("CREATE", eventauth.TypeCreate, "", alice, create)
	d.add("IMA", eventauth.TypeMember, alice, alice, `{"membership":"join"}`, "CREATE")
	pl := `{"users":{"@alice:a.test":100}}`
	if d.rv.RoomIDFromCreate {
		pl = `{}`
	}
	d.add("IPOWER", eventauth.TypePowerLevels, "", alice, pl, "IMA")
	d.add("IJR", eventauth.TypeJoinRules, "", alice, `{"join_rule":"public"}`, "IPOWER")
	d.add("IMB", eventauth.TypeMember, bob, bob, `{"membership":"join"}`, "IJR")
	d.add("IMC", eventauth.TypeMember, carol, carol, `{"membership":"join"}`, "IMB")
	d.add("IMZ", eventauth.TypeMember, zara, zara, `{"membership":"join"}`, "IMC")
	return d
}

// add appends a state event (sk "-" for a message) after the named events
// and fails the test if it is not allowed by the state before it.
func (d *dag) add(name, typ, sk, sender, content string, prev ...string) *testEvent {
	d.t.Helper()
	d.ts++
	ev := &testEvent{id: d.id(name), room: d.room, typ: typ, sender: sender, content: content,
		rv: d.rv, ts: d.ts}
	if sk != "-" {
		ev.sk = &sk
	}
	if typ == eventauth.TypeCreate && d.rv.RoomIDFromCreate {
		ev.room = ""
	}
	var before []StateMap
	for _, p := range prev {
		ev.prev = append(ev.prev, d.id(p))
		before = append(before, d.stateAfter[d.id(p)])
		if dp := d.events[d.id(p)].depth + 1; dp > ev.depth {
			ev.depth = dp
		}
	}
	state, err := Resolve(d.rv, before, d.load)
	if err != nil {
		d.t.Fatalf("state before %s: %v", name, err)
	}
	for _, k := range eventauth.StateKeysNeeded(ev) {
		if id, ok := state[k]; ok {
			ev.auth = append(ev.auth, id)
		}
	}
	auth := eventauth.AuthEvents{}
	for _, id := range ev.auth {
		a := d.events[id]
		auth[key(a.typ, *a.sk)] = a
	}
	if c := d.events[d.id("CREATE")]; c != nil {
		auth[key(c.typ, "")] = c
	}
	if err := eventauth.Check(ev, auth); err != nil {
		d.t.Fatalf("test event %s not allowed: %v", name, err)
	}
	d.events[ev.id] = ev
	if ev.sk != nil {
		state[key(typ, sk)] = ev.id
	}
	d.stateAfter[ev.id] = state
	return ev
}

func (d *dag) load(ids []string) (map[string]Event, error) {
	d.loads++
	out := make(map[string]Event, len(ids))
	for _, id := range ids {
		if ev, ok := d.events[id]; ok {
			out[id] = ev
		}
	}
	return out, nil
}

// resolve resolves the states after the named events.
func (d *dag) resolve(heads ...string) StateMap {
	d.t.Helper()
	var sets []StateMap
	for _, h := range heads {
		sets = append(sets, d.stateAfter[d.id(h)])
	}
	got, err := Resolve(d.rv, sets, d.load)
	if err != nil {
		d.t.Fatalf("resolve: %v", err)
	}
	return got
}

// expect compares entries of a state: want maps (type, state_key) to an
// event name, "" meaning absent.
func (d *dag) expect(got StateMap, want map[StateKey]string) {
	d.t.Helper()
	var keys []StateKey
	for k := range want {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
	for _, k := range keys {
		wantID := ""
		if want[k] != "" {
			wantID = d.id(want[k])
		}
		if got[k] != wantID {
			d.t.Errorf("%v = %q, want %q", k, got[k], wantID)
		}
	}
}

func member(u string) StateKey { return key(eventauth.TypeMember, u) }

var (
	plKey    = key(eventauth.TypePowerLevels, "")
	jrKey    = key(eventauth.TypeJoinRules, "")
	topicKey = key("m.room.topic", "")
)
