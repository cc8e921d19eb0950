package receiver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/membership"
	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/models/spec"
)

// checkPDU runs the format, signature and content hash checks.
func (r *Receiver) checkPDU(ctx context.Context, rv *event.RoomVersion, raw []byte) (*event.Event, error) {
	return membership.VerifyPDU(ctx, r.opts.Ring, rv, raw)
}

// roomVersion reads the version of a room we know.
func (r *Receiver) roomVersion(ctx context.Context, roomID spec.RoomID) (*event.RoomVersion, error) {
	_, rv, err := r.opts.Rooms.Room(ctx, roomID)
	return rv, err
}

// membershipOf returns content.membership.
func membershipOf(ev *event.Event) string {
	var c struct {
		Membership string `json:"membership"`
	}
	json.Unmarshal(ev.Content(), &c)
	return c.Membership
}

// checkMembershipEvent checks a send_join/send_leave/invite body against the
// path and the origin: the right event ID, room and membership, and a
// sender on the origin server setting its own membership (except invites).
func checkMembershipEvent(ev *event.Event, roomID spec.RoomID, eventID string, origin spec.ServerName, membership string) error {
	switch {
	case ev.EventID() != eventID:
		return spec.BadJSON("event ID is %s, not %s", ev.EventID(), eventID)
	case ev.RoomID() != string(roomID):
		return spec.BadJSON("event is for room %s, not %s", ev.RoomID(), roomID)
	case ev.Type() != "m.room.member" || membershipOf(ev) != membership:
		return spec.BadJSON("event is not an m.room.member %s", membership)
	case ev.StateKey() == nil:
		return spec.BadJSON("membership event without state_key")
	}
	sender, err := spec.ParseUserID(ev.Sender())
	if err != nil || sender.Server() != origin {
		return spec.Forbidden("sender %s is not on %s", ev.Sender(), origin)
	}
	if membership != "invite" && *ev.StateKey() != ev.Sender() {
		return spec.BadJSON("state_key must be the sender")
	}
	return nil
}

// roomErr keeps Matrix errors and hides the rest behind the central handler.
func roomErr(err error) error {
	var me *spec.Error
	switch {
	case errors.As(err, &me):
		return me
	case errors.Is(err, rooms.ErrRejected):
		return spec.Forbidden("%v", err)
	case errors.Is(err, rooms.ErrMissingPrevEvents):
		return spec.NewError(400, spec.ErrUnknown, "event refers to prev_events this server does not have")
	}
	return fmt.Errorf("room service: %w", err)
}
