package rooms

import (
	"errors"

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
	// TS, when not 0, is the origin_server_ts instead of now (an
	// application service's timestamp massaging); ordering is unchanged.
	TS int64
}

// signer turns a proto-event into a signed, hashed PDU of our server with
// federation/event's Builder (server-server-api "Adding hashes and
// signatures to outgoing events").
type signer struct {
	server spec.ServerName
	key    *keys.SigningKey
}

// placement is what the writer decides about an event's position.
type placement struct {
	RoomID string // "" for a v12 create event
	Prev   []string
	Auth   []string
	// RefHashes holds the reference hashes of Prev and Auth, which event
	// format 1 (room versions 1 and 2) lists next to each ID.
	RefHashes map[string][32]byte
	Depth     int64
	TS        int64
}

func (s *signer) build(rv *event.RoomVersion, p *Proto, at placement) (*event.Event, error) {
	content := p.Content
	if p.Type == "m.room.redaction" && !rv.RedactsInContent && content["redacts"] != nil {
		// Before v11 redacts is a top-level key only (rooms/v11 "Redactions").
		delete(content, "redacts")
	}
	b := &event.Builder{
		RoomID: at.RoomID, Sender: p.Sender, Type: p.Type, StateKey: p.StateKey,
		Content: content, PrevEvents: at.Prev, AuthEvents: at.Auth, RefHashes: at.RefHashes,
		Depth: at.Depth, OriginServerTS: at.TS,
	}
	if p.Type == "m.room.redaction" {
		b.Redacts = p.Redacts
	}
	ev, err := b.Build(rv, string(s.server), s.key.ID, s.key.PrivateKey())
	if err != nil {
		if errors.Is(err, event.ErrMalformed) || errors.Is(err, event.ErrTooLarge) {
			return nil, event.MatrixError(err)
		}
		return nil, err
	}
	if len(ev.JSON()) > event.MaxEventSize {
		return nil, spec.TooLarge("event is %d bytes, over the limit of %d", len(ev.JSON()), event.MaxEventSize)
	}
	return ev, nil
}
