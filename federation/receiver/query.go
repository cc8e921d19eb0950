package receiver

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// queryProfile is GET /_matrix/federation/v1/query/profile
// (server-server-api "Querying for information").
func (r *Receiver) queryProfile(c echo.Context) error {
	userID, err := spec.ParseUserID(c.QueryParam("user_id"))
	if err != nil {
		return spec.InvalidParam("user_id: %v", err)
	}
	if userID.Server() != r.opts.ServerName {
		return spec.InvalidParam("user %s is not on this server", userID)
	}
	field := c.QueryParam("field")
	if field != "" && field != "displayname" && field != "avatar_url" {
		return spec.InvalidParam("field must be displayname or avatar_url")
	}
	p, err := r.opts.Store.GetProfile(c.Request().Context(), string(userID))
	if errors.Is(err, store.ErrNotFound) {
		return spec.NotFound("no such user")
	}
	if err != nil {
		return err
	}
	out := map[string]string{}
	if p.DisplayName != "" && field != "avatar_url" {
		out["displayname"] = p.DisplayName
	}
	if p.AvatarURL != "" && field != "displayname" {
		out["avatar_url"] = p.AvatarURL
	}
	return c.JSON(http.StatusOK, out)
}

// queryDirectory is GET /_matrix/federation/v1/query/directory: one of our
// aliases and the servers in its room ("Querying for information").
func (r *Receiver) queryDirectory(c echo.Context) error {
	alias, err := spec.ParseRoomAlias(c.QueryParam("room_alias"))
	if err != nil {
		return spec.InvalidParam("room_alias: %v", err)
	}
	ctx := c.Request().Context()
	row, err := r.opts.Store.Alias(ctx, string(alias))
	if errors.Is(err, store.ErrNotFound) {
		return spec.NotFound("room alias %s not found", alias)
	}
	if err != nil {
		return err
	}
	members, err := r.opts.Store.MembersWith(ctx, row.RoomID, "join")
	if err != nil {
		return err
	}
	servers := []string{string(r.opts.ServerName)}
	seen := map[spec.ServerName]bool{r.opts.ServerName: true}
	for _, m := range members {
		if s := spec.UserID(m).Server(); !seen[s] {
			seen[s] = true
			servers = append(servers, string(s))
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"room_id": row.RoomID, "servers": servers})
}
