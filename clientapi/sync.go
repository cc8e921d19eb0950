package clientapi

import (
	"errors"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	clientsync "github.com/kabarchat/kabar/clientapi/sync"
	"github.com/kabarchat/kabar/models/spec"
)

// registerSync mounts /sync and the filter endpoints (sync.yaml,
// filter.yaml).
func (a *API) registerSync(g routeGroup) {
	auth := a.requireAuth
	g.GET("/sync", a.sync, auth)
	g.POST("/user/:userId/filter", a.createFilter, auth)
	g.GET("/user/:userId/filter/:filterId", a.getFilter, auth)
	a.registerHistory(g)
	a.registerReceipts(g)
}

// sync serves GET /sync (client-server-api "Syncing"). Its frame sits
// under a parked long-poll, so the parsing happens in a non-inlined callee
// (see clientsync.Syncer.Sync on parked stack size).
func (a *API) sync(c echo.Context) error {
	req, err := a.syncPrepare(c)
	if err != nil {
		return err
	}
	resp, err := a.opts.Sync.Sync(c.Request().Context(), *req)
	if errors.Is(err, clientsync.ErrTokenFromFuture) {
		return spec.InvalidParam("since token is not valid on this server")
	}
	if err != nil {
		return err
	}
	return ok(c, resp)
}

// syncPrepare parses the request and records the presence it sets.
//
//go:noinline
func (a *API) syncPrepare(c echo.Context) (*clientsync.Request, error) {
	sess := session(c)
	req, err := a.syncRequest(c)
	if err != nil {
		return nil, err
	}
	req.UserID, req.DeviceID = sess.UserID, sess.DeviceID
	if a.opts.Presence != nil {
		a.opts.Presence.Synced(c.Request().Context(), sess.UserID, c.QueryParam("set_presence"))
	}
	return &req, nil
}

// syncRequest parses the query parameters: 400 M_INVALID_PARAM for bad
// since/timeout/full_state/set_presence, M_BAD_JSON for a malformed inline
// filter, 404 M_NOT_FOUND for an unknown filter ID.
func (a *API) syncRequest(c echo.Context) (clientsync.Request, error) {
	var req clientsync.Request
	if s := c.QueryParam("since"); s != "" {
		t, err := clientsync.ParseToken(s)
		if err != nil {
			return req, spec.InvalidParam("invalid since token: %v", err)
		}
		req.Since = &t
	}
	if s := c.QueryParam("timeout"); s != "" {
		ms, err := strconv.ParseInt(s, 10, 64)
		if err != nil || ms < 0 {
			return req, spec.InvalidParam("timeout must be a non-negative integer of milliseconds")
		}
		req.Timeout = time.Duration(min(ms, int64(24*time.Hour/time.Millisecond))) * time.Millisecond
	}
	switch c.QueryParam("full_state") {
	case "", "false":
	case "true":
		req.FullState = true
	default:
		return req, spec.InvalidParam("full_state must be true or false")
	}
	switch c.QueryParam("set_presence") {
	case "", "online", "offline", "unavailable":
	default:
		return req, spec.InvalidParam("set_presence must be online, offline or unavailable")
	}
	f, err := a.opts.Sync.ResolveFilter(c.Request().Context(), session(c).UserID, c.QueryParam("filter"))
	if err != nil {
		return req, err
	}
	req.Filter = f
	return req, nil
}
