package event

import "encoding/json"

// MaxStrippedState bounds the stripped state kept with an invite or knock.
const MaxStrippedState = 50

// strippedEvent is the client-server API's StrippedStateEvent.
type strippedEvent struct {
	Content  json.RawMessage `json:"content"`
	Sender   string          `json:"sender"`
	StateKey *string         `json:"state_key"`
	Type     string          `json:"type"`
}

// WithStrippedState returns the event with the room state another server
// sent with an invite (invite_room_state) or a knock (knock_room_state) kept
// in unsigned.invite_room_state, in the stripped form clients are shown
// (client-server-api "Stripped state"; /sync reads that key for a room this
// server is not in). Entries may be full PDUs (since v1.16) or stripped
// events: both carry the four fields; malformed ones are dropped. unsigned
// is outside the hashes and the event ID, so the result is the same event;
// if the state cannot be kept the event is returned unchanged.
func (e *Event) WithStrippedState(state []json.RawMessage) *Event {
	kept := []strippedEvent{}
	for _, raw := range state {
		var st strippedEvent
		if json.Unmarshal(raw, &st) != nil || st.Type == "" || st.StateKey == nil || len(st.Content) == 0 || st.Content[0] != '{' {
			continue
		}
		if kept = append(kept, st); len(kept) == MaxStrippedState {
			break
		}
	}
	var obj map[string]json.RawMessage
	if len(kept) == 0 || json.Unmarshal(e.JSON(), &obj) != nil {
		return e
	}
	unsigned := map[string]json.RawMessage{}
	if raw, ok := obj["unsigned"]; ok {
		json.Unmarshal(raw, &unsigned) // an odd unsigned is replaced
	}
	var err error
	if unsigned["invite_room_state"], err = json.Marshal(kept); err != nil {
		return e
	}
	if obj["unsigned"], err = json.Marshal(unsigned); err != nil {
		return e
	}
	full, err := json.Marshal(obj)
	if err != nil {
		return e
	}
	out, err := Parse(e.Version(), full)
	if err != nil || out.EventID() != e.EventID() {
		return e
	}
	return out
}
