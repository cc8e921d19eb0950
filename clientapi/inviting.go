package clientapi

import (
	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/models/spec"
)

type targetBody struct {
	UserID string `json:"user_id"`
	Reason string `json:"reason"`
}

// readTarget parses {roomId} and the body naming the user a membership
// change is for (inviting.yaml, kicking.yaml, banning.yaml).
func readTarget(c echo.Context) (spec.RoomID, targetBody, error) {
	var body targetBody
	roomID, err := pathRoomID(c)
	if err != nil {
		return "", body, err
	}
	if err := echoserver.BindJSON(c, &body); err != nil {
		return "", body, err
	}
	if body.UserID == "" {
		return "", body, spec.MissingParam("user_id is required")
	}
	return roomID, body, nil
}

// POST /rooms/{roomId}/invite (inviting.yaml).
func (a *API) invite(c echo.Context) error {
	roomID, body, err := readTarget(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if remote, err := spec.ParseUserID(body.UserID); err == nil && remote.Server() != a.opts.ServerName && a.opts.Federation != nil {
		content := map[string]any{}
		if body.Reason != "" {
			content["reason"] = body.Reason
		}
		if _, err := a.opts.Federation.InviteRemote(ctx, roomID, spec.UserID(session(c).UserID), remote, content); err != nil {
			return roomErr(err)
		}
		return ok(c, struct{}{})
	}
	target, err := a.localInvitee(body.UserID)
	if err != nil {
		return err
	}
	if err := a.requireLocalUser(ctx, target); err != nil {
		return err
	}
	sender := spec.UserID(session(c).UserID)
	if _, err := a.opts.Rooms.Membership(ctx, roomID, sender, target, "invite", body.Reason, a.profileContent(ctx, string(target))); err != nil {
		return roomErr(err)
	}
	return ok(c, struct{}{})
}
