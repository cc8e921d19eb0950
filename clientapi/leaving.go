package clientapi

import (
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/models/spec"
)

// POST /rooms/{roomId}/leave (leaving.yaml): also rejects an invite or
// withdraws a knock.
func (a *API) leave(c echo.Context) error {
	roomID, err := pathRoomID(c)
	if err != nil {
		return err
	}
	var body reasonBody
	if err := echoserver.BindJSON(c, &body); err != nil {
		return err
	}
	user := spec.UserID(session(c).UserID)
	ctx := c.Request().Context()
	if remote, err := a.remoteRoom(ctx, roomID, user); err != nil {
		return err
	} else if remote {
		// Rejecting an invite to a room we are not in (federation/membership/leave.go).
		if err := a.opts.Federation.LeaveRemote(ctx, roomID, user, body.Reason); err != nil {
			return roomErr(err)
		}
		return ok(c, struct{}{})
	}
	if _, err := a.opts.Rooms.Membership(c.Request().Context(), roomID, user, user, "leave", body.Reason, nil); err != nil {
		return roomErr(err)
	}
	return ok(c, struct{}{})
}

// POST /rooms/{roomId}/forget (leaving.yaml): only once the user is no
// longer in the room (400 M_UNKNOWN otherwise, as the spec's example).
func (a *API) forget(c echo.Context) error {
	roomID, err := pathRoomID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	user := session(c).UserID
	m, err := a.membership(ctx, roomID, user)
	if err != nil {
		return err
	}
	switch m.Membership {
	case "":
		return spec.NotFound("you were never in room %s", roomID)
	case "join", "invite", "knock":
		return spec.NewError(400, spec.ErrUnknown, "user %s is in room %s", user, roomID)
	}
	if err := a.opts.Rooms.Store().ForgetRoom(ctx, user, string(roomID), time.Now().UnixMilli()); err != nil {
		return err
	}
	return ok(c, struct{}{})
}
