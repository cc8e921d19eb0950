package clientapi

import (
	"context"
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// registerMembership mounts joining, inviting, leaving, kicking, banning and
// knocking (client-server-api "Room membership").
func (a *API) registerMembership(g routeGroup, auth echo.MiddlewareFunc) {
	g.POST("/join/:roomIdOrAlias", a.joinByIDOrAlias, auth)
	g.POST("/rooms/:roomId/join", a.joinRoom, auth)
	g.POST("/knock/:roomIdOrAlias", a.knock, auth)
	g.POST("/rooms/:roomId/invite", a.invite, auth)
	g.POST("/rooms/:roomId/leave", a.leave, auth)
	g.POST("/rooms/:roomId/forget", a.forget, auth)
	g.POST("/rooms/:roomId/kick", a.targetMembership("leave", false), auth)
	g.POST("/rooms/:roomId/ban", a.targetMembership("ban", false), auth)
	g.POST("/rooms/:roomId/unban", a.targetMembership("leave", true), auth)
}

type reasonBody struct {
	Reason string `json:"reason"`
}

// resolveRoom turns {roomIdOrAlias} into a room ID this server knows. A room
// or alias of another server needs federation: 404 M_NOT_FOUND until then.
func (a *API) resolveRoom(c echo.Context) (spec.RoomID, error) {
	raw := c.Param("roomIdOrAlias")
	if len(raw) > 0 && raw[0] == '#' {
		alias, err := spec.ParseRoomAlias(raw)
		if err != nil {
			return "", spec.InvalidParam("invalid room alias: %v", err)
		}
		if alias.Server() != a.opts.ServerName && a.opts.Federation != nil {
			return a.resolveRemoteAlias(c, alias)
		}
		row, err := a.opts.Rooms.Store().Alias(c.Request().Context(), string(alias))
		if errors.Is(err, store.ErrNotFound) {
			return "", spec.NotFound("room alias %s is not known to this server", alias)
		}
		if err != nil {
			return "", err
		}
		return spec.RoomID(row.RoomID), nil
	}
	id, err := spec.ParseRoomID(raw)
	if err != nil {
		return "", spec.InvalidParam("%q is neither a room ID nor a room alias", raw)
	}
	return id, nil
}

// profileContent is the displayname/avatar_url a member event carries
// (client-server-api "m.room.member": set from the user's profile).
func (a *API) profileContent(ctx context.Context, user string) map[string]any {
	out := map[string]any{}
	p, err := a.opts.Store.GetProfile(ctx, user)
	if err != nil {
		if !errors.Is(err, models.ErrNotFound) {
			a.log.Warn("load profile for member event", "err", err)
		}
		return out
	}
	if p.DisplayName != "" {
		out["displayname"] = p.DisplayName
	}
	if p.AvatarURL != "" {
		out["avatar_url"] = p.AvatarURL
	}
	return out
}

// join sends the caller's join (joining.yaml). Rooms this server does not
// know are 404 M_NOT_FOUND until federation can join them remotely.
func (a *API) join(c echo.Context, roomID spec.RoomID) error {
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
	if _, _, err := a.opts.Rooms.Room(ctx, roomID); remote || err != nil {
		if !remote {
			return err
		}
		// A room this server is not in (unknown, or all our users left):
		// join through a resident server.
		content := a.profileContent(ctx, string(user))
		if body.Reason != "" {
			content["reason"] = body.Reason
		}
		if err := a.opts.Federation.JoinRemote(ctx, roomID, user, joinServers(c, roomID), content); err != nil {
			return roomErr(err)
		}
		return ok(c, map[string]string{"room_id": string(roomID)})
	}
	content := a.profileContent(ctx, string(user))
	via, err := a.restrictedJoinVia(ctx, roomID, string(user))
	if err != nil {
		return err
	}
	if via != "" {
		content["join_authorised_via_users_server"] = via
	}
	if _, err := a.opts.Rooms.Membership(ctx, roomID, user, user, "join", body.Reason, content); err != nil {
		return roomErr(err)
	}
	return ok(c, map[string]string{"room_id": string(roomID)})
}

// POST /join/{roomIdOrAlias} (joining.yaml).
func (a *API) joinByIDOrAlias(c echo.Context) error {
	roomID, err := a.resolveRoom(c)
	if err != nil {
		return err
	}
	return a.join(c, roomID)
}

// POST /rooms/{roomId}/join (joining.yaml).
func (a *API) joinRoom(c echo.Context) error {
	roomID, err := pathRoomID(c)
	if err != nil {
		return err
	}
	return a.join(c, roomID)
}
