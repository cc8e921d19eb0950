package clientapi

import (
	"context"
	"errors"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/models/spec"
)

// RemoteMembership joins rooms hosted elsewhere and invites users of other
// servers (federation/membership implements it; nil: local rooms only).
type RemoteMembership interface {
	JoinRemote(ctx context.Context, roomID spec.RoomID, user spec.UserID, servers []spec.ServerName, content map[string]any) error
	InviteRemote(ctx context.Context, roomID spec.RoomID, inviter, invitee spec.UserID, content map[string]any) (string, error)
	// ResolveAlias asks the alias's server for the room and its servers.
	ResolveAlias(ctx context.Context, alias spec.RoomAlias) (spec.RoomID, []spec.ServerName, error)
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
