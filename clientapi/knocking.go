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
	user := spec.UserID(session(c).UserID)
	remote, err := a.remoteRoom(ctx, roomID, user)
	if err != nil {
		return err
	}
	if remote {
		// A room this server is not in: knock through a resident server
		// (server-server-api "Knocking upon a room"); via and server_name
		// name the servers to ask, as for joins.
		content := a.profileContent(ctx, string(user))
		if body.Reason != "" {
			content["reason"] = body.Reason
		}
		if err := a.opts.Federation.KnockRemote(ctx, roomID, user, joinServers(c, roomID), content); err != nil {
			return roomErr(err)
		}
		return ok(c, map[string]string{"room_id": string(roomID)})
	}
	if _, _, err := a.opts.Rooms.Room(ctx, roomID); err != nil {
		return err
	}
	if _, err := a.opts.Rooms.Membership(ctx, roomID, user, user, "knock", body.Reason, a.profileContent(ctx, string(user))); err != nil {
		return roomErr(err)
	}
	return ok(c, map[string]string{"room_id": string(roomID)})
}
