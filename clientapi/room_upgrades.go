package clientapi

import (
	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/models/spec"
)

// POST /rooms/{roomId}/upgrade (room_upgrades.yaml).
func (a *API) upgradeRoom(c echo.Context) error {
	roomID, err := pathRoomID(c)
	if err != nil {
		return err
	}
	var body struct {
		NewVersion         string   `json:"new_version"`
		AdditionalCreators []string `json:"additional_creators"`
	}
	if err := echoserver.BindJSON(c, &body); err != nil {
		return err
	}
	if body.NewVersion == "" {
		return spec.MissingParam("new_version is required")
	}
	var extra []spec.UserID
	for _, raw := range body.AdditionalCreators {
		u, err := spec.ParseUserID(raw)
		if err != nil {
			return spec.InvalidParam("invalid user ID %q in additional_creators", raw)
		}
		extra = append(extra, u)
	}
	ctx := c.Request().Context()
	user := session(c).UserID
	if m, err := a.membership(ctx, roomID, user); err != nil {
		return err
	} else if m.Membership != "join" {
		return spec.Forbidden("you are not a member of this room")
	}
	newID, err := a.opts.Rooms.UpgradeRoom(ctx, roomID, spec.UserID(user), body.NewVersion, extra)
	if err != nil {
		return roomErr(err)
	}
	return ok(c, map[string]string{"replacement_room": string(newID)})
}
