package clientapi

import (
	"context"
	"errors"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
)

// A small Synapse-compatible admin API (/_synapse/admin/*) so operators'
// tooling works. NOTSPEC: apart from /admin/whois these endpoints are not
// part of the Matrix spec; they follow Synapse's documented admin API.

// AdminOptions enables the admin API; a nil Store leaves it unregistered.
type AdminOptions struct {
	Store         AdminStore
	ServerVersion string
}

// AdminStore is what the admin API reads and writes; *models.Store
// satisfies it.
type AdminStore interface {
	RegistrationTokenStore
	ListUsers(ctx context.Context, q models.UserQuery) ([]models.AdminUser, int64, error)
	GetAdminUser(ctx context.Context, userID string) (*models.AdminUser, error)
	ListRooms(ctx context.Context, from, limit int) ([]models.Room, int64, error)
}

// registerAdmin mounts the admin routes.
func (a *API) registerAdmin(e *echo.Echo) {
	// client-server-api "Server administration": whois for admins or the
	// user themselves.
	if a.opts.Admin.Store == nil {
		return
	}
	for _, p := range []string{"/_matrix/client/v3", "/_matrix/client/r0"} {
		e.GET(p+"/admin/whois/:userId", a.whois(false), unescaped(a.requireAuth)...)
	}
	// Middleware per route, not per group: a group with middleware catches
	// every method under its prefix, turning 405s (and other handlers'
	// routes below the prefix) into 403s.
	v1 := &adminGroup{e: e, prefix: "/_synapse/admin/v1", mw: unescaped(a.requireAuth, a.requireAdmin)}
	v2 := &adminGroup{e: e, prefix: "/_synapse/admin/v2", mw: v1.mw}
	v1.GET("/server_version", a.adminServerVersion)
	v1.GET("/whois/:userId", a.whois(true))
	v2.GET("/users", a.adminListUsers)
	v2.GET("/users/:userId", a.adminGetUser)
	v2.PUT("/users/:userId", a.adminPutUser)
	v1.POST("/reset_password/:userId", a.adminResetPassword)
	v1.POST("/deactivate/:userId", a.adminDeactivate)
	v1.GET("/rooms", a.adminListRooms)
	v1.GET("/rooms/:roomId", a.adminGetRoom)
	a.registerTokenAdmin(v1)
}

// adminGroup mounts routes under a prefix with the admin middleware.
type adminGroup struct {
	e      *echo.Echo
	prefix string
	mw     []echo.MiddlewareFunc
}

func (g *adminGroup) GET(p string, h echo.HandlerFunc)    { g.e.GET(g.prefix+p, h, g.mw...) }
func (g *adminGroup) POST(p string, h echo.HandlerFunc)   { g.e.POST(g.prefix+p, h, g.mw...) }
func (g *adminGroup) PUT(p string, h echo.HandlerFunc)    { g.e.PUT(g.prefix+p, h, g.mw...) }
func (g *adminGroup) DELETE(p string, h echo.HandlerFunc) { g.e.DELETE(g.prefix+p, h, g.mw...) }

// requireAdmin lets only server admins through: 403 M_FORBIDDEN otherwise.
func (a *API) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !session(c).IsAdmin {
			return spec.Forbidden("you are not a server admin")
		}
		return next(c)
	}
}

// GET /_synapse/admin/v1/server_version
func (a *API) adminServerVersion(c echo.Context) error {
	return ok(c, map[string]string{"server_version": "Kabar " + a.opts.Admin.ServerVersion})
}

type whoisConnection struct {
	IP       string `json:"ip,omitempty"`
	LastSeen int64  `json:"last_seen,omitempty"`
	// UserAgent is not recorded, so it is never sent.
	UserAgent string `json:"user_agent,omitempty"`
}

type whoisSession struct {
	Connections []whoisConnection `json:"connections"`
}

type whoisDevice struct {
	Sessions []whoisSession `json:"sessions"`
}

// GET /admin/whois/{userId} (admin.yaml): one session per device, with the
// address and time it was last seen. Outside the Synapse prefix the user may
// also look themselves up.
func (a *API) whois(adminOnly bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := a.adminLocalUser(c)
		if err != nil {
			return err
		}
		sess := session(c)
		if !sess.IsAdmin && (adminOnly || sess.UserID != string(id)) {
			return spec.Forbidden("you are not a server admin")
		}
		ctx := c.Request().Context()
		if _, err := a.adminUser(ctx, id); err != nil {
			return err
		}
		devs, err := a.opts.Store.ListDevices(ctx, string(id))
		if err != nil {
			return err
		}
		out := make(map[string]whoisDevice, len(devs))
		for _, d := range devs {
			conn := whoisConnection{IP: d.LastSeenIP, LastSeen: d.LastSeenTS}
			out[d.DeviceID] = whoisDevice{Sessions: []whoisSession{{Connections: []whoisConnection{conn}}}}
		}
		return ok(c, map[string]any{"user_id": id, "devices": out})
	}
}

// adminLocalUser parses {userId} and insists it is one of ours (Synapse:
// 400 "Can only look up local users").
func (a *API) adminLocalUser(c echo.Context) (spec.UserID, error) {
	id, err := pathUser(c)
	if err != nil {
		return "", err
	}
	if id.Server() != a.opts.ServerName {
		return "", spec.InvalidParam("can only look up local users")
	}
	return id, nil
}

// adminUser loads a local user: 404 M_NOT_FOUND when there is none.
func (a *API) adminUser(ctx context.Context, id spec.UserID) (*models.AdminUser, error) {
	u, err := a.opts.Admin.Store.GetAdminUser(ctx, string(id))
	if errors.Is(err, models.ErrNotFound) {
		return nil, spec.NotFound("user not found")
	}
	return u, err
}

// pageParams parses Synapse's from/limit query parameters.
func pageParams(c echo.Context, defLimit int) (from, limit int, err error) {
	from, limit = 0, defLimit
	if v := c.QueryParam("from"); v != "" {
		if from, err = strconv.Atoi(v); err != nil || from < 0 {
			return 0, 0, spec.InvalidParam("from must be a non-negative integer")
		}
	}
	if v := c.QueryParam("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 0 {
			return 0, 0, spec.InvalidParam("limit must be a non-negative integer")
		}
	}
	return from, min(limit, 1000), nil
}

// boolParam parses a "true"/"false" query parameter.
func boolParam(c echo.Context, name string, def bool) (bool, error) {
	switch c.QueryParam(name) {
	case "":
		return def, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, spec.InvalidParam("%s must be true or false", name)
}
