package receiver

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/xmatrix"
	"github.com/kabarchat/kabar/models/spec"
)

// inviteRequest is the body of PUT /v2/invite.
type inviteRequest struct {
	RoomVersion     string            `json:"room_version"`
	Event           json.RawMessage   `json:"event"`
	InviteRoomState []json.RawMessage `json:"invite_room_state"`
}

// invite is PUT /v2/invite/{roomId}/{eventId} (server-server-api "Inviting
// to a room"): we countersign an invite of one of our users and keep it so
// the user sees it.
func (r *Receiver) invite(c echo.Context) error {
	roomID, err := spec.ParseRoomID(c.Param("roomId"))
	if err != nil {
		return spec.InvalidParam("bad room ID")
	}
	var req inviteRequest
	if err := echoserver.BindJSON(c, &req); err != nil {
		return err
	}
	rv := event.LookupRoomVersion(req.RoomVersion)
	if rv == nil {
		e := spec.NewError(http.StatusBadRequest, spec.ErrIncompatibleRoomVer, "room version %q is not supported", req.RoomVersion)
		e.Extra = map[string]any{"room_version": req.RoomVersion}
		return e
	}
	ctx := c.Request().Context()
	if err := r.checkACL(ctx, string(roomID), xmatrix.Origin(c)); err != nil {
		return err
	}
	ev, err := r.checkPDU(ctx, rv, req.Event)
	if err != nil {
		return err
	}
	if err := checkMembershipEvent(ev, roomID, c.Param("eventId"), xmatrix.Origin(c), "invite"); err != nil {
		return err
	}
	invitee, err := spec.ParseUserID(*ev.StateKey())
	if err != nil || invitee.Server() != r.opts.ServerName {
		return spec.InvalidParam("the invitee is not a user of this server")
	}
	if _, err := r.opts.Store.GetProfile(ctx, string(invitee)); err != nil {
		return spec.NotFound("no such user %s", invitee)
	}
	signed, err := ev.Sign(string(r.opts.ServerName), r.opts.Ring.KeyID(), r.opts.Ring.PrivateKey())
	if err != nil {
		return err
	}
	if err := r.storeInvite(ctx, xmatrix.Origin(c), signed.WithStrippedState(req.InviteRoomState)); err != nil {
		return roomErr(err)
	}
	return c.JSON(http.StatusOK, map[string]json.RawMessage{"event": signed.JSON()})
}

// storeInvite keeps the countersigned invite. In a room we take part in it
// is a room event like any other, so prev events we lack are fetched from
// the inviting server first; otherwise it is kept out of band.
func (r *Receiver) storeInvite(ctx context.Context, origin spec.ServerName, ev *event.Event) error {
	in, err := r.opts.Rooms.Participating(ctx, spec.RoomID(ev.RoomID()))
	if err != nil {
		return err
	}
	if in {
		return r.acceptWithGaps(ctx, origin, ev)
	}
	return r.opts.Rooms.StoreInvite(ctx, ev)
}
