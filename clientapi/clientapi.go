// Package clientapi implements the Matrix client-server API
// (/_matrix/client/*): thin Echo handlers, one file per spec API file, that
// parse, authorize, call one service or store method and write JSON.
package clientapi

import (
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/models/spec"
)

// Options carries what the client API needs; server fills it from the config.
type Options struct {
	ServerName spec.ServerName
	// PublicBaseURL is advertised in /.well-known/matrix/client.
	PublicBaseURL string
	// FederationServer is advertised in /.well-known/matrix/server
	// (host:port); empty means the endpoint answers 404.
	FederationServer string
	// RoomVersions lists the stable room versions; DefaultRoomVersion is
	// used for new rooms.
	RoomVersions       []string
	DefaultRoomVersion string
	Logger             *slog.Logger
}

// API holds the client API's dependencies.
type API struct {
	opts Options
	log  *slog.Logger
}

// New builds the client API.
func New(opts Options) *API {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &API{opts: opts, log: log}
}

// Register mounts every client API route on e.
func (a *API) Register(e *echo.Echo) {
	e.GET("/.well-known/matrix/client", a.wellKnownClient)
	e.GET("/.well-known/matrix/server", a.wellKnownServer)
	e.GET("/_matrix/client/versions", a.versions)

	v3 := e.Group("/_matrix/client/v3")
	r0 := e.Group("/_matrix/client/r0") // legacy prefix some clients still use
	for _, g := range []*echo.Group{v3, r0} {
		g.GET("/capabilities", a.capabilities)
	}
}

func ok(c echo.Context, body any) error { return c.JSON(http.StatusOK, body) }
