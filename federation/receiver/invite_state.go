package receiver

import (
	"encoding/json"

	"github.com/kabarchat/kabar/federation/event"
)

// maxInviteState bounds the stripped state kept with an invite.
const maxInviteState = 50

// strippedEvent is the client-server API's StrippedStateEvent.
type strippedEvent struct {
	Content  json.RawMessage `json:"content"`
	Sender   string          `json:"sender"`
	StateKey string          `json:"state_key"`
	Type     string          `json:"type"`
}

// withInviteState keeps the room state an inviting server sent with the
// invite in the stored event's unsigned.invite_room_state, in the stripped
// form clients are shown (client-server-api "Stripped state"; /sync reads
// it for a room this server is not in). The entries are full PDUs since
// v1.16 or stripped events from older servers: both have the four fields.
// unsigned is outside the signatures and the event ID, so the event stays
// the same event; if the state cannot be kept, the invite is kept alone.
func withInviteState(ev *event.Event, state []json.RawMessage) *event.Event {
	if len(state) == 0 {
		return ev // an invite v1 carries it in unsigned already
	}
	var kept []strippedEvent
	for _, raw := range state {
		var s strippedEvent
		if json.Unmarshal(raw, &s) != nil || s.Type == "" || len(s.Content) == 0 || s.Content[0] != '{' {
			continue
		}
		if kept = append(kept, s); len(kept) == maxInviteState {
			break
		}
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(ev.JSON(), &obj) != nil {
		return ev
	}
	unsigned := map[string]json.RawMessage{}
	if raw, ok := obj["unsigned"]; ok {
		json.Unmarshal(raw, &unsigned)
	}
	stripped, err := json.Marshal(kept)
	if err != nil {
		return ev
	}
	unsigned["invite_room_state"] = stripped
	b, err := json.Marshal(unsigned)
	if err != nil {
		return ev
	}
	obj["unsigned"] = b
	full, err := json.Marshal(obj)
	if err != nil {
		return ev
	}
	out, err := event.Parse(ev.Version(), full)
	if err != nil || out.EventID() != ev.EventID() {
		return ev
	}
	return out
}
