package eventauth

import (
	"crypto/ed25519"
	"testing"

	"github.com/kabarchat/kabar/federation/event"
)

var _ Event = (*event.Event)(nil)

// realRoom builds signed events with event.Builder and checks each against
// the state before it, as the room service will.
type realRoom struct {
	t      *testing.T
	rv     *event.RoomVersion
	key    ed25519.PrivateKey
	roomID string
	state  AuthEvents
	last   string
	depth  int64
	hashes map[string][32]byte
}

func (r *realRoom) send(typ string, sk *string, sender string, content any) (*event.Event, error) {
	r.t.Helper()
	b := &event.Builder{RoomID: r.roomID, Sender: sender, Type: typ, StateKey: sk, Content: content,
		Depth: r.depth + 1, OriginServerTS: 1000 + r.depth}
	if r.last != "" {
		b.PrevEvents = []string{r.last}
	}
	probe := &testEvent{typ: typ, sk: sk, sender: sender, content: "{}", rv: r.rv}
	if raw, ok := content.(string); ok {
		probe.content = raw
	}
	for _, k := range StateKeysNeeded(probe) {
		if ev, ok := r.state[k]; ok {
			b.AuthEvents = append(b.AuthEvents, ev.EventID())
		}
	}
	if s, ok := content.(string); ok {
		b.Content = rawJSON(s)
	}
	b.RefHashes = r.hashes
	ev, err := b.Build(r.rv, "a.test", "ed25519:1", r.key)
	if err != nil {
		r.t.Fatalf("build %s: %v", typ, err)
	}
	if h, err := ev.ReferenceHash(); err == nil {
		r.hashes[ev.EventID()] = h
	}
	if r.roomID == "" {
		r.roomID = event.RoomIDFromCreate(ev)
	}
	if err := Check(ev, r.state); err != nil {
		return ev, err
	}
	if sk != nil {
		r.state[StateKeyTuple{typ, *sk}] = ev
	}
	r.last, r.depth = ev.EventID(), r.depth+1
	return ev, nil
}

func TestRealEvents(t *testing.T) {
	for _, v := range []string{"1", "6", "10", "11", "12"} {
		t.Run("v"+v, func(t *testing.T) {
			rv := event.LookupRoomVersion(v)
			r := &realRoom{t: t, rv: rv, key: ed25519.NewKeyFromSeed(make([]byte, 32)), state: AuthEvents{},
				hashes: map[string][32]byte{}}
			if !rv.RoomIDFromCreate {
				r.roomID = "!room:a.test"
			}
			create := `{"room_version":"` + v + `"}`
			if !rv.CreatorInSender {
				create = `{"creator":"@alice:a.test","room_version":"` + v + `"}`
			}
			pl := `{"users":{"@alice:a.test":100,"@dave:a.test":50}}`
			if rv.RoomIDFromCreate {
				pl = `{"users":{"@dave:a.test":50}}`
			}
			steps := []struct {
				typ, sk, sender, content string
				deny                     string
			}{
				{TypeCreate, "", alice, create, ""},
				{TypeMember, alice, alice, `{"membership":"join"}`, ""},
				{TypePowerLevels, "", alice, pl, ""},
				{TypeJoinRules, "", alice, `{"join_rule":"invite"}`, ""},
				{TypeMember, dave, dave, `{"membership":"join"}`, "invite-only"},
				{TypeMember, dave, alice, `{"membership":"invite"}`, ""},
				{TypeMember, dave, dave, `{"membership":"join"}`, ""},
				{"m.room.message", "-", dave, `{"body":"hi"}`, ""},
				{TypeMember, alice, dave, `{"membership":"ban"}`, "may not ban"},
			}
			for _, s := range steps {
				var sk *string
				if s.sk != "-" {
					sk = strp(s.sk)
				}
				_, err := r.send(s.typ, sk, s.sender, s.content)
				assertAuth(t, err, s.deny)
			}
		})
	}
}
