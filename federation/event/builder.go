package event

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/kabarchat/kabar/federation/canonicaljson"
)

// Builder describes a new event before it is hashed and signed (a
// "proto-event"). Build turns it into an Event of a given room version.
type Builder struct {
	// RoomID is required, except for a room version 12 m.room.create event,
	// which must not have one (rooms/v12 auth rule 1.2).
	RoomID   string
	Sender   string
	Type     string
	StateKey *string
	// Content is anything canonicaljson.Marshal accepts (a struct, a map,
	// json.RawMessage); nil means {}.
	Content    any
	PrevEvents []string
	AuthEvents []string
	// RefHashes maps prev/auth event IDs to their reference hashes, which
	// event format 1 (v1, v2) lists next to each ID. Unused otherwise.
	RefHashes map[string][32]byte
	Depth     int64
	// OriginServerTS in milliseconds; zero means now.
	OriginServerTS int64
	// Redacts is the redacted event for m.room.redaction: a top-level key
	// before v11, content.redacts from v11 (rooms/v11).
	Redacts string
	// Unsigned is optional data not covered by hashes or signatures.
	Unsigned any
}

// Build fills in hashes, signs with the origin server's key and computes
// the event ID for rv. origin is our server name; in v1/v2 it also names
// the event ID's domain.
func (b *Builder) Build(rv *RoomVersion, origin, keyID string, key ed25519.PrivateKey) (*Event, error) {
	if rv == nil {
		return nil, ErrUnknownVersion
	}
	obj, err := b.object(rv, origin)
	if err != nil {
		return nil, fmt.Errorf("build %s event: %w", b.Type, err)
	}
	if err := hashAndSign(rv, obj, origin, keyID, key); err != nil {
		return nil, fmt.Errorf("build %s event: %w", b.Type, err)
	}
	ev, err := fromObject(rv, obj)
	if err != nil {
		return nil, fmt.Errorf("build %s event: %w", b.Type, err)
	}
	return ev, nil
}

func (b *Builder) object(rv *RoomVersion, origin string) (map[string]any, error) {
	content, err := b.content(rv)
	if err != nil {
		return nil, err
	}
	ts := b.OriginServerTS
	if ts == 0 {
		ts = time.Now().UnixMilli()
	}
	obj := map[string]any{
		"sender":           b.Sender,
		"type":             b.Type,
		"content":          content,
		"depth":            b.Depth,
		"origin_server_ts": ts,
	}
	isV12Create := rv.RoomIDFromCreate && b.Type == typeCreate
	switch {
	case isV12Create && b.RoomID != "":
		return nil, fmt.Errorf("%w: a room version %s create event has no room_id", ErrMalformed, rv.ID)
	case !isV12Create:
		obj["room_id"] = b.RoomID
	}
	if b.StateKey != nil {
		obj["state_key"] = *b.StateKey
	}
	if b.Redacts != "" && !rv.RedactsInContent {
		obj["redacts"] = b.Redacts
	}
	if b.Unsigned != nil {
		if obj["unsigned"], err = toTree(b.Unsigned); err != nil {
			return nil, fmt.Errorf("unsigned: %w", err)
		}
	}
	if rv.EventFormat == 1 {
		obj["event_id"] = "$" + rand.Text() + ":" + origin
	}
	if obj["prev_events"], err = b.refs(rv, b.PrevEvents); err != nil {
		return nil, err
	}
	if obj["auth_events"], err = b.refs(rv, b.AuthEvents); err != nil {
		return nil, err
	}
	return obj, nil
}

func (b *Builder) content(rv *RoomVersion) (map[string]any, error) {
	content := map[string]any{}
	if b.Content != nil {
		tree, err := toTree(b.Content)
		if err != nil {
			return nil, fmt.Errorf("content: %w", err)
		}
		m, ok := tree.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: content is not an object", ErrMalformed)
		}
		content = m
	}
	if b.Redacts != "" && rv.RedactsInContent {
		content["redacts"] = b.Redacts
	}
	return content, nil
}

// refs lists event IDs, as [id, {"sha256": hash}] pairs in format 1.
func (b *Builder) refs(rv *RoomVersion, ids []string) ([]any, error) {
	out := make([]any, 0, len(ids))
	for _, id := range ids {
		if rv.EventFormat != 1 {
			out = append(out, id)
			continue
		}
		// An unknown hash is sent as {}: no auth rule checks these hashes,
		// and Synapse both sends (in make_join templates) and accepts
		// empty ones.
		hashes := map[string]any{}
		if h, ok := b.RefHashes[id]; ok {
			hashes["sha256"] = EncodeBase64(h[:])
		}
		out = append(out, []any{id, hashes})
	}
	return out, nil
}

// toTree converts a Go value to a fresh canonical value tree.
func toTree(v any) (any, error) {
	b, err := canonicaljson.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	tree, err := canonicaljson.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return tree, nil
}
