package event

import (
	"maps"
	"slices"
)

// Event is a parsed, immutable PDU of one room version. It keeps the decoded
// JSON tree and the canonical bytes it was built from, so what was verified
// is exactly what is stored and served (appendices, "Signing JSON").
type Event struct {
	rv        *RoomVersion
	obj       map[string]any // never mutated after construction
	canonical []byte         // canonical JSON of obj

	eventID    string
	roomID     string
	typ        string
	stateKey   *string
	sender     string
	origin     string
	content    []byte
	prevEvents []string
	authEvents []string
	depth      int64
	ts         int64
	redacts    string
}

// EventID is the event's ID: the event_id field in room versions 1 and 2,
// otherwise '$' and the base64 reference hash (rooms/fragments/v4-event-ids).
func (e *Event) EventID() string { return e.eventID }

// RoomID is the room_id field; for a room version 12 create event, which has
// none, it is the room ID derived from its event ID (rooms/v12).
func (e *Event) RoomID() string { return e.roomID }

// Type is the event type.
func (e *Event) Type() string { return e.typ }

// StateKey is nil for non-state events.
func (e *Event) StateKey() *string {
	if e.stateKey == nil {
		return nil
	}
	s := *e.stateKey
	return &s
}

// StateKeyEquals reports whether the event is a state event with state key s.
func (e *Event) StateKeyEquals(s string) bool { return e.stateKey != nil && *e.stateKey == s }

// Sender is the user ID that sent the event.
func (e *Event) Sender() string { return e.sender }

// Origin is the deprecated top-level origin server name, if present.
func (e *Event) Origin() string { return e.origin }

// Content is the canonical JSON of the content object.
func (e *Event) Content() []byte { return e.content }

// PrevEventIDs lists the prev_events IDs (for v1/v2 without their hashes).
func (e *Event) PrevEventIDs() []string { return slices.Clone(e.prevEvents) }

// AuthEventIDs lists the auth_events IDs (for v1/v2 without their hashes).
func (e *Event) AuthEventIDs() []string { return slices.Clone(e.authEvents) }

// Depth is the depth field.
func (e *Event) Depth() int64 { return e.depth }

// OriginServerTS is the origin_server_ts field in milliseconds.
func (e *Event) OriginServerTS() int64 { return e.ts }

// Redacts is the ID of the event a redaction redacts: the top-level field
// before room version 11, content.redacts from v11 on (rooms/v11).
func (e *Event) Redacts() string { return e.redacts }

// Version is the room version whose rules the event was parsed with.
func (e *Event) Version() *RoomVersion { return e.rv }

// JSON is the canonical JSON of the whole event in federation format,
// including hashes, signatures and unsigned. Do not modify it.
func (e *Event) JSON() []byte { return e.canonical }

// Unsigned is the canonical JSON of the unsigned object, or nil.
func (e *Event) Unsigned() []byte {
	u, ok := e.obj["unsigned"]
	if !ok {
		return nil
	}
	b, err := encode(u)
	if err != nil {
		return nil // unreachable: the tree was encoded when the event was built
	}
	return b
}

// Signatures returns server name -> key ID -> unpadded base64 signature.
func (e *Event) Signatures() map[string]map[string]string {
	out := map[string]map[string]string{}
	sigs, _ := e.obj["signatures"].(map[string]any)
	for server, v := range sigs {
		keys, _ := v.(map[string]any)
		out[server] = map[string]string{}
		for keyID, sig := range keys {
			if s, ok := sig.(string); ok {
				out[server][keyID] = s
			}
		}
	}
	return out
}

// Hashes returns the hashes object (algorithm -> unpadded base64).
func (e *Event) Hashes() map[string]string {
	out := map[string]string{}
	hashes, _ := e.obj["hashes"].(map[string]any)
	for k, v := range hashes {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

// IsState reports whether the event has a state_key.
func (e *Event) IsState() bool { return e.stateKey != nil }

// tree returns a shallow copy of the top-level object for derivations.
func (e *Event) tree() map[string]any { return maps.Clone(e.obj) }
