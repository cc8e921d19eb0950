package eventauth

import (
	"fmt"

	"github.com/kabarchat/kabar/federation/event"
)

// testEvent implements Event for tests that do not need signed PDUs.
type testEvent struct {
	id, room, typ, sender, content, redacts string
	sk                                      *string
	prev, auth                              []string
	depth, ts                               int64
	rv                                      *event.RoomVersion
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
func (e *testEvent) Redacts() string             { return e.redacts }
func (e *testEvent) Version() *event.RoomVersion { return e.rv }

func strp(s string) *string { return &s }

const (
	alice = "@alice:a.test" // creator
	bob   = "@bob:b.test"
	carol = "@carol:c.test"
	dave  = "@dave:a.test"
)

// testRoom is a room whose state tests edit before checking one event.
type testRoom struct {
	rv     *event.RoomVersion
	roomID string
	n      int
	create *testEvent
	state  AuthEvents
}

// newTestRoom: alice created and joined; power levels give alice 100 (v12:
// alice is creator, so users is empty); join rule public.
func newTestRoom(version string) *testRoom {
	rv := event.LookupRoomVersion(version)
	r := &testRoom{rv: rv, state: AuthEvents{}}
	content := fmt.Sprintf(`{"creator":%q,"room_version":%q}`, alice, version)
	if rv.CreatorInSender {
		content = fmt.Sprintf(`{"room_version":%q}`, version)
	}
	createID := r.nextID()
	if rv.RoomIDFromCreate {
		r.roomID = "!" + createID[1:]
	} else {
		r.roomID = "!room:a.test"
	}
	r.create = &testEvent{id: createID, room: r.roomID, typ: TypeCreate, sk: strp(""),
		sender: alice, content: content, rv: rv}
	if rv.RoomIDFromCreate {
		r.create.room = ""
	}
	r.put(r.create)
	r.member(alice, "join")
	if rv.RoomIDFromCreate {
		r.pl(`{}`)
	} else {
		r.pl(`{"users":{"@alice:a.test":100}}`)
	}
	r.joinRule("public")
	return r
}

func (r *testRoom) nextID() string {
	r.n++
	if r.rv.EventFormat == 1 {
		return fmt.Sprintf("$e%d:a.test", r.n)
	}
	return fmt.Sprintf("$e%d", r.n)
}

// ev builds an event in the room; sk nil means a message event.
func (r *testRoom) ev(typ string, sk *string, sender, content string) *testEvent {
	return &testEvent{id: r.nextID(), room: r.roomID, typ: typ, sk: sk, sender: sender,
		content: content, prev: []string{"$prev"}, rv: r.rv, ts: int64(r.n)}
}

func (r *testRoom) put(e *testEvent) *testRoom {
	r.state[StateKeyTuple{e.typ, *e.sk}] = e
	return r
}

func (r *testRoom) member(user, membership string) *testRoom {
	return r.memberBy(user, user, fmt.Sprintf(`{"membership":%q}`, membership))
}

func (r *testRoom) memberBy(sender, user, content string) *testRoom {
	return r.put(r.ev(TypeMember, strp(user), sender, content))
}

func (r *testRoom) pl(content string) *testRoom {
	return r.put(r.ev(TypePowerLevels, strp(""), alice, content))
}

func (r *testRoom) joinRule(rule string) *testRoom {
	return r.put(r.ev(TypeJoinRules, strp(""), alice, fmt.Sprintf(`{"join_rule":%q}`, rule)))
}

func (r *testRoom) drop(typ, sk string) *testRoom {
	delete(r.state, StateKeyTuple{typ, sk})
	return r
}

func memberContentJSON(membership string) string {
	return fmt.Sprintf(`{"membership":%q}`, membership)
}

func allVersions() []string { return event.StableRoomVersions() }

// versionsWhere lists the stable versions whose properties match.
func versionsWhere(pred func(*event.RoomVersion) bool) []string {
	var out []string
	for _, v := range event.StableRoomVersions() {
		if pred(event.LookupRoomVersion(v)) {
			out = append(out, v)
		}
	}
	return out
}

// rawJSON passes a JSON literal through event.Builder's content encoding.
type rawJSON string

func (r rawJSON) MarshalJSON() ([]byte, error) { return []byte(r), nil }
