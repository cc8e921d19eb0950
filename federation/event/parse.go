package event

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/kabarchat/kabar/federation/canonicaljson"
	"github.com/kabarchat/kabar/models/spec"
)

// maxInputSize refuses absurd inputs before decoding; the real limit is
// MaxEventSize on the canonical form, which whitespace does not count toward.
const maxInputSize = 1 << 20

// Parse decodes a PDU in the federation format of rv strictly: canonical
// JSON rules for the version (rooms/fragments/v6-canonical-json), required
// fields of the version's PDU schema, field types and size limits. Errors
// wrap ErrMalformed or ErrTooLarge.
//
// In event formats 2 and 3 the event ID is not part of the event; a stray
// event_id key is dropped so it cannot change the reference hash.
func Parse(rv *RoomVersion, data []byte) (*Event, error) {
	if rv == nil {
		return nil, ErrUnknownVersion
	}
	if len(data) > maxInputSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(data))
	}
	tree, err := decodeFor(rv, data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	obj, ok := tree.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	if rv.EventFormat != 1 {
		delete(obj, "event_id")
	}
	return fromObject(rv, obj)
}

// decodeFor applies the version's number rules: room versions before 6 may
// carry integers outside the canonical range (appendices, "Canonical JSON").
// Floats stay refused in every version (NOTSPEC, see
// canonicaljson.DecodeCompat for why).
func decodeFor(rv *RoomVersion, data []byte) (any, error) {
	if rv.StrictCanonicalJSON {
		return canonicaljson.Decode(data)
	}
	return canonicaljson.DecodeCompat(data)
}

func encode(v any) ([]byte, error) { return canonicaljson.Encode(v) }

// fromObject validates obj and builds the Event. obj must not be modified
// afterwards by the caller.
func fromObject(rv *RoomVersion, obj map[string]any) (*Event, error) {
	canonical, err := encode(obj)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if len(canonical) > MaxEventSize {
		return nil, fmt.Errorf("%w: %d bytes in canonical JSON", ErrTooLarge, len(canonical))
	}
	e := &Event{rv: rv, obj: obj, canonical: canonical}
	f := fields{obj: obj}
	e.typ = f.str("type", true)
	e.sender = f.str("sender", true)
	e.origin = f.str("origin", false)
	e.ts = f.integer("origin_server_ts")
	e.depth = f.integer("depth")
	e.stateKey = f.optStr("state_key")
	content := f.object("content", true)
	f.object("unsigned", false)
	f.hashes()
	f.signatures()
	e.prevEvents = f.refs(rv, "prev_events")
	e.authEvents = f.refs(rv, "auth_events")
	e.redacts = f.str("redacts", false)
	if rv.RedactsInContent {
		e.redacts, _ = content["redacts"].(string)
	}
	if f.err != nil {
		return nil, f.err
	}
	if e.content, err = encode(content); err != nil {
		return nil, fmt.Errorf("%w: content: %w", ErrMalformed, err)
	}
	if err := e.checkIDs(f); err != nil {
		return nil, err
	}
	return e, nil
}

// checkIDs validates identifiers and size limits and derives the event ID
// and, for v12 create events, the room ID.
func (e *Event) checkIDs(f fields) error {
	if _, err := spec.ParseUserID(e.sender); err != nil {
		return fmt.Errorf("%w: sender: %w", ErrMalformed, err)
	}
	if err := checkSize("type", e.typ); err != nil {
		return err
	}
	if e.stateKey != nil {
		if err := checkSize("state_key", *e.stateKey); err != nil {
			return err
		}
	}
	var err error
	if e.eventID, err = computeEventID(e.rv, e.obj); err != nil {
		return err
	}
	e.roomID = f.str("room_id", false)
	if e.roomID == "" && e.rv.RoomIDFromCreate && e.typ == typeCreate && e.StateKeyEquals("") {
		// rooms/v12: the create event has no room_id; the room ID is its
		// event ID with the '!' sigil.
		e.roomID = RoomIDFromCreateEventID(e.eventID)
	}
	if f.err != nil {
		return f.err
	}
	if _, has := e.obj["room_id"]; !has && e.roomID == "" {
		return fmt.Errorf("%w: missing room_id", ErrMalformed)
	}
	if err := checkSize("room_id", e.roomID); err != nil {
		return err
	}
	if _, err := spec.ParseRoomID(e.roomID); err != nil {
		return fmt.Errorf("%w: room_id: %w", ErrMalformed, err)
	}
	return nil
}

func checkSize(field, s string) error {
	if len(s) > MaxFieldSize {
		return fmt.Errorf("%w: %s is %d bytes, limit %d", ErrTooLarge, field, len(s), MaxFieldSize)
	}
	return nil
}

// RoomIDFromCreateEventID derives a room version 12 room ID from the create
// event's ID: the same hash with the '!' sigil (appendices, "Room IDs").
func RoomIDFromCreateEventID(eventID string) string {
	if len(eventID) == 0 {
		return ""
	}
	return "!" + eventID[1:]
}

// RoomIDFromCreate returns the room ID a room version 12 create event defines.
func RoomIDFromCreate(create *Event) string { return RoomIDFromCreateEventID(create.EventID()) }

// fields extracts typed fields and remembers the first error.
type fields struct {
	obj map[string]any
	err error
}

func (f *fields) fail(err error) {
	if f.err == nil {
		f.err = err
	}
}

func (f *fields) str(key string, required bool) string {
	v, ok := f.obj[key]
	if !ok {
		if required {
			f.fail(fmt.Errorf("%w: missing %s", ErrMalformed, key))
		}
		return ""
	}
	s, ok := v.(string)
	if !ok {
		f.fail(fmt.Errorf("%w: %s is not a string", ErrMalformed, key))
	}
	return s
}

func (f *fields) optStr(key string) *string {
	if _, ok := f.obj[key]; !ok {
		return nil
	}
	s := f.str(key, true)
	return &s
}

func (f *fields) integer(key string) int64 {
	v, ok := f.obj[key]
	if !ok {
		f.fail(fmt.Errorf("%w: missing %s", ErrMalformed, key))
		return 0
	}
	n, ok := asInt64(v)
	if !ok {
		f.fail(fmt.Errorf("%w: %s is not a 64-bit integer", ErrMalformed, key))
	}
	return n
}

// asInt64 accepts int64 and, for compat-decoded old room versions, a
// json.Number that still fits in 64 bits.
func asInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case json.Number:
		n, err := strconv.ParseInt(string(x), 10, 64)
		return n, err == nil
	}
	return 0, false
}

func (f *fields) object(key string, required bool) map[string]any {
	v, ok := f.obj[key]
	if !ok {
		if required {
			f.fail(fmt.Errorf("%w: missing %s", ErrMalformed, key))
		}
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		f.fail(fmt.Errorf("%w: %s is not an object", ErrMalformed, key))
	}
	return m
}

// hashes checks the event_hash schema: an object with a string sha256.
func (f *fields) hashes() {
	h := f.object("hashes", true)
	if h == nil {
		return
	}
	if _, ok := h["sha256"].(string); !ok {
		f.fail(fmt.Errorf("%w: hashes.sha256 missing or not a string", ErrMalformed))
	}
}

// signatures checks server name -> key ID -> string.
func (f *fields) signatures() {
	for server, v := range f.object("signatures", true) {
		keys, ok := v.(map[string]any)
		if !ok {
			f.fail(fmt.Errorf("%w: signatures.%s is not an object", ErrMalformed, server))
			return
		}
		for keyID, sig := range keys {
			if _, ok := sig.(string); !ok {
				f.fail(fmt.Errorf("%w: signatures.%s.%s is not a string", ErrMalformed, server, keyID))
				return
			}
		}
	}
}

// refs reads prev_events / auth_events: [id, {hashes}] pairs in event
// format 1 (rooms/v1 PDU schema), plain event IDs afterwards.
func (f *fields) refs(rv *RoomVersion, key string) []string {
	v, ok := f.obj[key]
	if !ok {
		f.fail(fmt.Errorf("%w: missing %s", ErrMalformed, key))
		return nil
	}
	arr, ok := v.([]any)
	if !ok {
		f.fail(fmt.Errorf("%w: %s is not an array", ErrMalformed, key))
		return nil
	}
	ids := make([]string, 0, len(arr))
	for _, item := range arr {
		if rv.EventFormat == 1 {
			pair, ok := item.([]any)
			if !ok || len(pair) != 2 {
				f.fail(fmt.Errorf("%w: %s entries must be [event_id, hashes] pairs", ErrMalformed, key))
				return nil
			}
			if _, ok := pair[1].(map[string]any); !ok {
				f.fail(fmt.Errorf("%w: %s entry hashes must be an object", ErrMalformed, key))
				return nil
			}
			item = pair[0]
		}
		id, ok := item.(string)
		if _, err := spec.ParseEventID(id); !ok || err != nil {
			f.fail(fmt.Errorf("%w: %s contains an invalid event ID", ErrMalformed, key))
			return nil
		}
		ids = append(ids, id)
	}
	return ids
}
