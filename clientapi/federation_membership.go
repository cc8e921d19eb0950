package clientapi

import (
	"context"
	"errors"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/federation/membership"
	"github.com/kabarchat/kabar/models/spec"
)

// RemoteMembership joins rooms hosted elsewhere and invites users of other
// servers (federation/membership implements it; nil: local rooms only).
type RemoteMembership interface {
	JoinRemote(ctx context.Context, roomID spec.RoomID, user spec.UserID, servers []spec.ServerName, content map[string]any) error
	InviteRemote(ctx context.Context, roomID spec.RoomID, inviter, invitee spec.UserID, content map[string]any) (string, error)
	// ResolveAlias asks the alias's server for the room and its servers.
	ResolveAlias(ctx context.Context, alias spec.RoomAlias) (spec.RoomID, []spec.ServerName, error)
	// RemoteRoom reports whether joining or leaving the room must go
	// through another server (none of our users is in it).
	RemoteRoom(ctx context.Context, roomID spec.RoomID, user spec.UserID) (bool, error)
	// KnockRemote knocks on a room this server is not in.
	KnockRemote(ctx context.Context, roomID spec.RoomID, user spec.UserID, servers []spec.ServerName, content map[string]any) error
	// LeaveRemote rejects an invite to a room this server is not in.
	LeaveRemote(ctx context.Context, roomID spec.RoomID, user spec.UserID, reason string) error
	// RemoteProfile queries a remote user's profile (briefly cached).
	RemoteProfile(ctx context.Context, user spec.UserID) (displayName, avatarURL string, err error)
	// RemotePublicRooms reads another server's room directory.
	RemotePublicRooms(ctx context.Context, server spec.ServerName, q membership.PublicRoomsQuery) (*membership.PublicRoomsPage, error)
}

// remoteRoom asks RemoteMembership whether the room lives elsewhere (false
// without federation).
func (a *API) remoteRoom(ctx context.Context, roomID spec.RoomID, user spec.UserID) (bool, error) {
	if a.opts.Federation == nil {
		return false, nil
	}
	return a.opts.Federation.RemoteRoom(ctx, roomID, user)
}

// viaKey carries the servers a remote alias lookup named from resolveRoom
// to the join.
const viaKey = "federation.via"

// resolveRemoteAlias looks up another server's alias over federation.
func (a *API) resolveRemoteAlias(c echo.Context, alias spec.RoomAlias) (spec.RoomID, error) {
	roomID, servers, err := a.opts.Federation.ResolveAlias(c.Request().Context(), alias)
	if err != nil {
		return "", err
	}
	c.Set(viaKey, servers)
	return roomID, nil
}

// joinServers lists the servers to try for a remote join: the via and
// server_name query parameters (joining.yaml), then the server in the room
// ID, if it has one (room versions before 12).
func joinServers(c echo.Context, roomID spec.RoomID) []spec.ServerName {
	var out []spec.ServerName
	seen := map[spec.ServerName]bool{}
	add := func(raw string) {
		s, err := spec.ParseServerName(raw)
		if err == nil && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	if servers, ok := c.Get(viaKey).([]spec.ServerName); ok {
		for _, s := range servers {
			add(string(s))
		}
	}
	q, _ := url.ParseQuery(c.Request().URL.RawQuery)
	for _, v := range q["via"] {
		add(v)
	}
	for _, v := range q["server_name"] {
		add(v)
	}
	if _, domain, ok := cutServer(string(roomID)); ok {
		add(domain)
	}
	return out
}

// cutServer splits "!local:server" at the first colon.
func cutServer(id string) (string, string, bool) {
	for i := 0; i < len(id); i++ {
		if id[i] == ':' {
			return id[:i], id[i+1:], true
		}
	}
	return id, "", false
}

// isNotFound reports a 404 Matrix error (an unknown room).
func isNotFound(err error) bool {
	var me *spec.Error
	return errors.As(err, &me) && me.Status == 404
}

// remoteInvitees takes the users of other servers out of a createRoom
// invite list (they need the federation invite handshake, which can only
// run once the room exists); without federation they stay and are refused.
func (a *API) remoteInvitees(req *createRoomRequest) []spec.UserID {
	if a.opts.Federation == nil {
		return nil
	}
	var remote []spec.UserID
	local := req.Invite[:0:0]
	for _, raw := range req.Invite {
		if u, err := spec.ParseUserID(raw); err == nil && u.Server() != a.opts.ServerName {
			remote = append(remote, u)
			continue
		}
		local = append(local, raw)
	}
	req.Invite = local
	return remote
}

// inviteRemotes invites createRoom's remote users. The room exists
// already, so a server that refuses or cannot be reached costs only its
// own invite (logged), as create_room.yaml's invite list is best effort.
func (a *API) inviteRemotes(ctx context.Context, roomID spec.RoomID, creator spec.UserID, users []spec.UserID, direct bool) {
	for _, u := range users {
		content := map[string]any{}
		if direct {
			content["is_direct"] = true
		}
		if _, err := a.opts.Federation.InviteRemote(ctx, roomID, creator, u, content); err != nil {
			a.log.Info("createRoom: remote invite failed", "room", roomID, "invitee", u, "err", err)
		}
	}
}

// remotePublicRooms is /publicRooms?server= for another server: its
// directory read over federation (list_public_rooms.yaml "server").
func (a *API) remotePublicRooms(c echo.Context, req *publicRoomsRequest) error {
	server, err := spec.ParseServerName(req.Server)
	if err != nil {
		return spec.InvalidParam("server: %v", err)
	}
	if a.opts.Federation == nil {
		return spec.NotFound("other servers' room directories need federation")
	}
	page, err := a.opts.Federation.RemotePublicRooms(c.Request().Context(), server, membership.PublicRoomsQuery{
		Limit: req.Limit, Since: req.Since, Term: req.Filter.GenericSearchTerm, RoomTypes: req.Filter.RoomTypes})
	if err != nil {
		return err
	}
	return ok(c, page)
}

// getRemoteAlias answers GET /directory/room/{roomAlias} for another
// server's alias. Without federation there is nobody to ask: 404.
func (a *API) getRemoteAlias(c echo.Context, alias spec.RoomAlias) error {
	if a.opts.Federation == nil {
		return spec.NotFound("room alias %s not found", alias)
	}
	roomID, servers, err := a.opts.Federation.ResolveAlias(c.Request().Context(), alias)
	var me *spec.Error
	if errors.As(err, &me) && me.Status == 404 {
		return spec.NotFound("room alias %s not found", alias)
	}
	if err != nil {
		return err
	}
	names := []string{}
	for _, s := range servers {
		names = append(names, string(s))
	}
	if len(names) == 0 {
		names = append(names, string(alias.Server()))
	}
	return ok(c, map[string]any{"room_id": roomID, "servers": names})
}
