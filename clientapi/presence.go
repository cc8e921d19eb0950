package clientapi

import (
	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/presence"
)

// registerPresence mounts presence.yaml's routes when presence is wired.
func (a *API) registerPresence(g routeGroup) {
	if a.opts.Presence == nil {
		return
	}
	g.GET("/presence/:userId/status", a.getPresence, a.requireAuth)
	g.PUT("/presence/:userId/status", a.putPresence, a.requireAuth)
}

// putPresence serves PUT /presence/{userId}/status: only for oneself.
func (a *API) putPresence(c echo.Context) error {
	uid, err := pathUser(c)
	if err != nil {
		return err
	}
	if string(uid) != session(c).UserID {
		return spec.Forbidden("you can only set your own presence")
	}
	var in struct {
		Presence  string  `json:"presence"`
		StatusMsg *string `json:"status_msg"`
	}
	if err := echoserver.BindJSON(c, &in); err != nil {
		return err
	}
	if in.Presence == "" {
		return spec.BadJSON("presence is required")
	}
	if !presence.Valid(in.Presence) {
		return spec.InvalidParam("presence must be online, unavailable or offline")
	}
	a.opts.Presence.Set(c.Request().Context(), string(uid), in.Presence, in.StatusMsg)
	return ok(c, struct{}{})
}

// getPresence serves GET /presence/{userId}/status: oneself, or a user who
// shares a room with the caller (403 otherwise, as presence.yaml allows).
func (a *API) getPresence(c echo.Context) error {
	uid, err := pathUser(c)
	if err != nil {
		return err
	}
	me := session(c).UserID
	if string(uid) != me {
		shared, err := a.opts.Presence.SharesRoom(c.Request().Context(), me, string(uid))
		if err != nil {
			return err
		}
		if !shared {
			return spec.Forbidden("you do not share a room with this user")
		}
	}
	return ok(c, a.opts.Presence.Get(string(uid)))
}
