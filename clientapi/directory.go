package clientapi

import (
	"errors"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// registerDirectory mounts room aliases (directory.yaml), the room
// directory (list_public_rooms.yaml) and room upgrade/report routes' peers.
func (a *API) registerDirectory(g routeGroup, auth echo.MiddlewareFunc) {
	g.PUT("/directory/room/:roomAlias", a.putAlias, auth)
	g.GET("/directory/room/:roomAlias", a.getAlias)
	g.DELETE("/directory/room/:roomAlias", a.deleteAlias, auth)
	g.GET("/rooms/:roomId/aliases", a.roomAliases, auth)
	g.GET("/directory/list/room/:roomId", a.getDirectoryVisibility)
	g.PUT("/directory/list/room/:roomId", a.putDirectoryVisibility, auth)
	g.GET("/publicRooms", a.publicRooms)
	g.POST("/publicRooms", a.publicRooms, auth)
}

// pathAlias parses {roomAlias}: 400 M_INVALID_PARAM if invalid.
func pathAlias(c echo.Context) (spec.RoomAlias, error) {
	raw := c.Param("roomAlias")
	alias, err := spec.ParseRoomAlias(raw)
	if err != nil {
		return "", spec.InvalidParam("room alias invalid: %v", err)
	}
	return alias, nil
}

// PUT /directory/room/{roomAlias} (directory.yaml). Only aliases of this
// server, only for rooms the caller is joined to; a taken alias is
// 409 M_ROOM_IN_USE.
func (a *API) putAlias(c echo.Context) error {
	alias, err := pathAlias(c)
	if err != nil {
		return err
	}
	if alias.Server() != a.opts.ServerName {
		return spec.InvalidParam("room alias must be on server %s", a.opts.ServerName)
	}
	if _, err := a.checkAliasNamespace(c, alias); err != nil {
		return err
	}
	var body struct {
		RoomID string `json:"room_id"`
	}
	if err := echoserver.BindJSON(c, &body); err != nil {
		return err
	}
	roomID, err := spec.ParseRoomID(body.RoomID)
	if err != nil {
		return spec.InvalidParam("invalid room_id: %v", err)
	}
	ctx := c.Request().Context()
	if _, _, err := a.opts.Rooms.Room(ctx, roomID); err != nil {
		return err
	}
	user := session(c).UserID
	if m, err := a.membership(ctx, roomID, user); err != nil {
		return err
	} else if m.Membership != "join" {
		return spec.Forbidden("you must be joined to the room to give it an alias")
	}
	err = a.opts.Rooms.Store().CreateAlias(ctx, models.RoomAlias{Alias: string(alias), RoomID: string(roomID),
		Creator: user, CreatedAt: time.Now().UnixMilli()})
	if errors.Is(err, store.ErrConflict) {
		return spec.NewError(409, spec.ErrRoomInUse, "room alias %s already exists", alias)
	}
	if err != nil {
		return err
	}
	return ok(c, struct{}{})
}

// GET /directory/room/{roomAlias} (directory.yaml). Aliases of other servers
// are asked of their server (server-server-api "Querying for information",
// /query/directory): its 404 is ours, an unreachable server is a 502.
func (a *API) getAlias(c echo.Context) error {
	alias, err := pathAlias(c)
	if err != nil {
		return err
	}
	if alias.Server() != a.opts.ServerName {
		return a.getRemoteAlias(c, alias)
	}
	row, err := a.opts.Rooms.Store().Alias(c.Request().Context(), string(alias))
	if errors.Is(err, store.ErrNotFound) && a.opts.AppServices != nil {
		// An alias in an application service's exclusive namespace may
		// be made on demand (application-service-api.md "Querying").
		if found, qerr := a.opts.AppServices.QueryAlias(c.Request().Context(), alias); qerr != nil {
			return qerr
		} else if found {
			row, err = a.opts.Rooms.Store().Alias(c.Request().Context(), string(alias))
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return spec.NotFound("room alias %s not found", alias)
	}
	if err != nil {
		return err
	}
	return ok(c, map[string]any{"room_id": row.RoomID, "servers": []string{string(a.opts.ServerName)}})
}

// DELETE /directory/room/{roomAlias} (directory.yaml): the alias's creator,
// a room member allowed to set m.room.canonical_alias, or a server admin
// (the spec leaves the access control to servers and names these).
func (a *API) deleteAlias(c echo.Context) error {
	alias, err := pathAlias(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	row, err := a.opts.Rooms.Store().Alias(ctx, string(alias))
	if errors.Is(err, store.ErrNotFound) {
		return spec.NotFound("room alias %s not found", alias)
	}
	if err != nil {
		return err
	}
	user := session(c).UserID
	owns, err := a.checkAliasNamespace(c, alias)
	if err != nil {
		return err
	}
	if row.Creator != user && !session(c).IsAdmin && !owns {
		if err := a.requireStateLevel(c, spec.RoomID(row.RoomID), "m.room.canonical_alias"); err != nil {
			return err
		}
	}
	if err := a.opts.Rooms.Store().DeleteAlias(ctx, string(alias)); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return ok(c, struct{}{})
}

// requireStateLevel checks the caller is joined and may send the state event
// type (the room's own notion of who manages it).
func (a *API) requireStateLevel(c echo.Context, roomID spec.RoomID, typ string) error {
	ctx := c.Request().Context()
	user := session(c).UserID
	m, err := a.membership(ctx, roomID, user)
	if err != nil {
		return err
	}
	if m.Membership != "join" {
		return spec.Forbidden("you are not a member of this room")
	}
	pl, err := a.opts.Rooms.PowerLevels(ctx, roomID)
	if err != nil {
		return err
	}
	if need := pl.EventLevel(typ, true); pl.UserLevel(user) < need {
		return spec.Forbidden("this needs power level %d in the room", need)
	}
	return nil
}

// GET /rooms/{roomId}/aliases (directory.yaml): members (or anyone in a
// world_readable room).
func (a *API) roomAliases(c echo.Context) error {
	roomID, err := pathRoomID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if err := a.requireJoinedOrWorldReadable(ctx, roomID, session(c).UserID); err != nil {
		return err
	}
	aliases, err := a.opts.Rooms.Store().RoomAliases(ctx, string(roomID))
	if err != nil {
		return err
	}
	if aliases == nil {
		aliases = []string{}
	}
	return ok(c, map[string][]string{"aliases": aliases})
}

// GET /directory/list/room/{roomId} (list_public_rooms.yaml).
func (a *API) getDirectoryVisibility(c echo.Context) error {
	roomID, err := pathRoomID(c)
	if err != nil {
		return err
	}
	room, _, err := a.opts.Rooms.Room(c.Request().Context(), roomID)
	if err != nil {
		return err
	}
	vis := "private"
	if room.IsPublic {
		vis = "public"
	}
	return ok(c, map[string]string{"visibility": vis})
}

// PUT /directory/list/room/{roomId} (list_public_rooms.yaml): for members
// allowed to set m.room.canonical_alias.
func (a *API) putDirectoryVisibility(c echo.Context) error {
	return a.setVisibility(c, func(roomID spec.RoomID) error {
		return a.requireStateLevel(c, roomID, "m.room.canonical_alias")
	})
}

// setVisibility lists {roomId} in the public directory or removes it, as
// the body's visibility says, once authorize allows it.
func (a *API) setVisibility(c echo.Context, authorize func(spec.RoomID) error) error {
	roomID, err := pathRoomID(c)
	if err != nil {
		return err
	}
	var body struct {
		Visibility string `json:"visibility"`
	}
	if err := echoserver.BindJSON(c, &body); err != nil {
		return err
	}
	if body.Visibility != "public" && body.Visibility != "private" {
		return spec.InvalidParam("visibility must be public or private")
	}
	if _, _, err := a.opts.Rooms.Room(c.Request().Context(), roomID); err != nil {
		return err
	}
	if err := authorize(roomID); err != nil {
		return err
	}
	if err := a.opts.Rooms.Store().SetRoomPublic(c.Request().Context(), string(roomID), body.Visibility == "public"); err != nil {
		return err
	}
	return ok(c, struct{}{})
}
