package event

import (
	"encoding/json"
	"testing"
)

// TestWithStrippedState: well-formed entries are kept in
// unsigned.invite_room_state (PDUs reduced to the four stripped fields),
// malformed ones dropped, and the event keeps its ID.
func TestWithStrippedState(t *testing.T) {
	rv := LookupRoomVersion("10")
	create, msg := buildRoom(t, rv)
	state := []json.RawMessage{
		create.JSON(), // a full PDU
		json.RawMessage(`{"type":"m.room.name","state_key":"","sender":"@a:domain","content":{"name":"Hi"}}`),
		json.RawMessage(`{"type":"m.room.topic","sender":"@a:domain","content":{"topic":"no state key"}}`),
		json.RawMessage(`{"type":"","state_key":"","content":{}}`),
		json.RawMessage(`"not an object"`),
		json.RawMessage(`{"type":"x","state_key":"","content":[1]}`),
	}
	out := msg.WithStrippedState(state)
	if out.EventID() != msg.EventID() {
		t.Fatalf("event ID changed: %s -> %s", msg.EventID(), out.EventID())
	}
	var u struct {
		Age    int64             `json:"age"`
		Invite []json.RawMessage `json:"invite_room_state"`
	}
	if err := json.Unmarshal(out.Unsigned(), &u); err != nil {
		t.Fatal(err)
	}
	if len(u.Invite) != 2 || u.Age != 5 {
		t.Fatalf("unsigned = %s", out.Unsigned())
	}
	var first map[string]any
	json.Unmarshal(u.Invite[0], &first)
	if _, ok := first["event_id"]; ok || first["type"] != "m.room.create" || len(first) != 4 {
		t.Fatalf("PDU not stripped: %s", u.Invite[0])
	}
	if same := msg.WithStrippedState(nil); same != msg {
		t.Fatal("no state must return the event unchanged")
	}
}
