package clientapi

import (
	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/models/spec"
)

// targetMembership serves kick (kicking.yaml: leave for another user), ban
// and unban (banning.yaml: leave for a banned user). The auth rules check
// the power levels; unban additionally needs the target to be banned.
func (a *API) targetMembership(membership string, unban bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		roomID, body, err := readTarget(c)
		if err != nil {
			return err
		}
		target, err := spec.ParseUserID(body.UserID)
		if err != nil {
			return spec.InvalidParam("invalid user ID %q", body.UserID)
		}
		ctx := c.Request().Context()
		if _, _, err := a.opts.Rooms.Room(ctx, roomID); err != nil {
			return err
		}
		if unban {
			if err := a.requireBanned(ctx, roomID, target); err != nil {
				return err
			}
		}
		sender := spec.UserID(session(c).UserID)
		if _, err := a.opts.Rooms.Membership(ctx, roomID, sender, target, membership, body.Reason, nil); err != nil {
			return roomErr(err)
		}
		return ok(c, struct{}{})
	}
}
