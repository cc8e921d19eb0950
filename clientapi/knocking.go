package clientapi

import (
	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/models/spec"
)

// POST /knock/{roomIdOrAlias} (knocking.yaml): ask to be let into a room
// whose join rule is knock or knock_restricted; the auth rules decide.
func (a *API) knock(c echo.Context) error {
	roomID, err := a.resolveRoom(c)
	if err != nil {
		return err
	}
	var body reasonBody
	if err := echoserver.BindJSON(c, &body); err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, _, err := a.opts.Rooms.Room(ctx, roomID); err != nil {
		return err
	}
	user := spec.UserID(session(c).UserID)
	if _, err := a.opts.Rooms.Membership(ctx, roomID, user, user, "knock", body.Reason, a.profileContent(ctx, string(user))); err != nil {
		return roomErr(err)
	}
	return ok(c, map[string]string{"room_id": string(roomID)})
}
