package clientapi

import (
	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/models/spec"
)

// GET /joined_rooms (list_joined_rooms.yaml).
func (a *API) joinedRooms(c echo.Context) error {
	ids, err := a.opts.Rooms.JoinedRooms(c.Request().Context(), spec.UserID(session(c).UserID))
	if err != nil {
		return err
	}
	if ids == nil {
		ids = []string{}
	}
	return ok(c, map[string][]string{"joined_rooms": ids})
}
