// Package membership does the sending side of joining, leaving and inviting
// across servers (server-server-api "Joining Rooms", "Inviting to a room",
// "Leaving Rooms"), and holds the PDU checks both sides share.
package membership

import (
	"context"
	"encoding/json"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/keys"
	"github.com/kabarchat/kabar/models/spec"
)

// VerifyPDU runs the first three checks of "Checks performed on receipt of
// a PDU": a valid event of the room version, valid signatures of every
// required server, and the content hash (on a mismatch the redacted event
// is what we keep, as the spec says).
func VerifyPDU(ctx context.Context, ring *keys.Ring, rv *event.RoomVersion, raw []byte) (*event.Event, error) {
	ev, err := event.Parse(rv, raw)
	if err != nil {
		return nil, event.MatrixError(err)
	}
	return VerifyParsed(ctx, ring, ev)
}

// VerifyParsed is VerifyPDU for an event already parsed (so a caller can
// report the failure under the event's ID).
func VerifyParsed(ctx context.Context, ring *keys.Ring, ev *event.Event) (*event.Event, error) {
	if err := ev.VerifySignatures(ring.Lookup(ctx)); err != nil {
		// The cause may be a key fetch's transport text (DNS, TLS): logged,
		// never sent to the requester.
		e := spec.Forbidden("event %s: signatures could not be verified", ev.EventID())
		e.Cause = err
		return nil, e
	}
	if !ev.ContentHashValid() {
		red, err := ev.Redact()
		if err != nil {
			return nil, event.MatrixError(err)
		}
		return red, nil
	}
	return ev, nil
}

// VerifyPDUs verifies a list (a send_join answer's state and auth chain)
// and fails on the first bad event.
func VerifyPDUs(ctx context.Context, ring *keys.Ring, rv *event.RoomVersion, raws []json.RawMessage) ([]*event.Event, error) {
	out := make([]*event.Event, 0, len(raws))
	for _, raw := range raws {
		ev, err := VerifyPDU(ctx, ring, rv, raw)
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, nil
}
