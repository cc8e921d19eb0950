package rooms

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"

	"github.com/kabarchat/kabar/federation/canonicaljson"
	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/keys"
	"github.com/kabarchat/kabar/models/spec"
)

// Proto is an event to be built: what the sender asks for. The room writer
// adds room_id, prev_events, auth_events, depth, origin_server_ts, hashes and
// signatures.
type Proto struct {
	Type     string
	StateKey *string
	Sender   string
	// Content is the event content (a map from canonicaljson.Decode, or one
	// built by this package).
	Content map[string]any
	// Redacts is the target of an m.room.redaction.
	Redacts string
}

// signer turns a proto-event into a signed, hashed PDU of our server.
//
// Provisional: federation/event has no builder yet, so this
// follows server-server-api "Adding hashes and signatures to outgoing
// events" directly: content hash over the event without unsigned,
// signatures and hashes; ed25519 signature over the redacted event.
type signer struct {
	server spec.ServerName
	key    *keys.SigningKey
}

// fields the writer decides.
type placement struct {
	RoomID string // "" for a v12 create event
	Prev   []string
	Auth   []string
	Depth  int64
	TS     int64
}

func (s *signer) build(rv *event.RoomVersion, p *Proto, at placement) (*event.Event, error) {
	if rv.EventFormat == 1 {
		return nil, spec.NewError(400, spec.ErrUnsupportedRoomVer, "creating events in room version %s is not supported", rv.ID)
	}
	obj := map[string]any{
		"type":             p.Type,
		"sender":           p.Sender,
		"content":          p.Content,
		"prev_events":      stringsToAny(at.Prev),
		"auth_events":      stringsToAny(at.Auth),
		"depth":            at.Depth,
		"origin_server_ts": at.TS,
	}
	if p.Content == nil {
		obj["content"] = map[string]any{}
	} else if p.Type == "m.room.redaction" && !rv.RedactsInContent {
		delete(p.Content, "redacts") // top-level before v11 (rooms/v11)
	}
	if at.RoomID != "" {
		obj["room_id"] = at.RoomID
	}
	if p.StateKey != nil {
		obj["state_key"] = *p.StateKey
	}
	if p.Redacts != "" && p.Type == "m.room.redaction" && !rv.RedactsInContent {
		obj["redacts"] = p.Redacts
	}
	if err := s.hashAndSign(rv, obj); err != nil {
		return nil, err
	}
	data, err := canonicaljson.Encode(obj)
	if err != nil {
		return nil, spec.BadJSON("event content: %v", err)
	}
	if len(data) > event.MaxEventSize {
		return nil, spec.TooLarge("event is %d bytes, over the limit of %d", len(data), event.MaxEventSize)
	}
	ev, err := event.Parse(rv, data)
	if err != nil {
		return nil, event.MatrixError(err)
	}
	return ev, nil
}

func (s *signer) hashAndSign(rv *event.RoomVersion, obj map[string]any) error {
	hashed, err := canonicaljson.Encode(obj) // no hashes/signatures/unsigned yet
	if err != nil {
		return spec.BadJSON("event content: %v", err)
	}
	sum := sha256.Sum256(hashed)
	obj["hashes"] = map[string]any{"sha256": base64.RawStdEncoding.EncodeToString(sum[:])}
	withHash, err := canonicaljson.Encode(obj)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	redacted, err := event.RedactJSON(rv, withHash)
	if err != nil {
		return fmt.Errorf("redact for signing: %w", err)
	}
	obj["signatures"] = map[string]any{
		string(s.server): map[string]any{s.key.ID: s.key.Sign(redacted)},
	}
	return nil
}

func stringsToAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
