// Package receiver serves the server-server API: /_matrix/key/* (public) and
// /_matrix/federation/* (every request authenticated with X-Matrix).
package receiver

import (
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/federation/fedclient"
	"github.com/kabarchat/kabar/federation/keys"
	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// Options configures the receiver.
type Options struct {
	ServerName spec.ServerName
	Ring       *keys.Ring
	// Key countersigns restricted joins this server authorises.
	Key   *keys.SigningKey
	Store *store.Store
	Rooms *rooms.Service
	// Client fetches missing events from the sending server.
	Client *fedclient.Client
	// Version is reported by GET /_matrix/federation/v1/version.
	Version string
	// OnOrigin is told about every authenticated origin (sender wake-up).
	OnOrigin func(origin string)
	// Keys, Ephemeral and Presence take the EDUs of /send (edu.go); Keys
	// also answers /user/* (user.go). Nil ones drop their EDUs.
	Keys      KeyServer
	Ephemeral Ephemeral
	Presence  Presence
	Logger    *slog.Logger
}

func (r *Receiver) now() time.Time { return time.Now() }

// Receiver holds the federation handlers.
type Receiver struct {
	opts Options
	log  *slog.Logger
}

// New builds the receiver.
func New(opts Options) *Receiver {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Receiver{opts: opts, log: opts.Logger}
}

// routes mounts handlers under prefix with the X-Matrix check attached to
// each route rather than to the group: Echo answers a group middleware's
// path with a catch-all route, so a wrong method would meet the signature
// check (401) or a 404 instead of the router's 405 M_UNRECOGNIZED.
type routes struct {
	g    *echo.Group
	auth echo.MiddlewareFunc
}

func (r *Receiver) routes(e *echo.Echo, prefix string) routes {
	return routes{g: e.Group(prefix), auth: r.authenticated()}
}

// Path parameters are decoded before authentication and the handler
// (echoserver.UnescapeParams): peers escape IDs differently.
func (rt routes) GET(path string, h echo.HandlerFunc) {
	rt.g.GET(path, h, echoserver.UnescapeParams, rt.auth)
}
func (rt routes) PUT(path string, h echo.HandlerFunc) {
	rt.g.PUT(path, h, echoserver.UnescapeParams, rt.auth)
}
func (rt routes) POST(path string, h echo.HandlerFunc) {
	rt.g.POST(path, h, echoserver.UnescapeParams, rt.auth)
}

// Register mounts the routes on the federation listener's Echo.
func (r *Receiver) Register(e *echo.Echo) {
	// Key endpoints are not authenticated: they are how keys are learned.
	e.GET("/_matrix/key/v2/server", r.serverKeys)
	e.GET("/_matrix/key/v2/query/:serverName", r.queryKeysGet, echoserver.UnescapeParams)
	e.POST("/_matrix/key/v2/query", r.queryKeysPost)
	// GET /version needs no authentication (server-server-api "Server
	// implementation").
	e.GET("/_matrix/federation/v1/version", r.version)

	g := r.routes(e, "/_matrix/federation")
	g.GET("/v1/query/profile", r.queryProfile)
	g.GET("/v1/query/directory", r.queryDirectory)
	r.registerUser(g)
	if r.opts.Rooms == nil {
		return
	}
	g.GET("/v1/make_join/:roomId/:userId", r.makeMembership("join"))
	g.PUT("/v2/send_join/:roomId/:eventId", r.sendJoin)
	g.GET("/v1/make_leave/:roomId/:userId", r.makeMembership("leave"))
	g.PUT("/v2/send_leave/:roomId/:eventId", r.sendLeave)
	g.GET("/v1/make_knock/:roomId/:userId", r.makeMembership("knock"))
	g.PUT("/v1/send_knock/:roomId/:eventId", r.sendKnock)
	g.PUT("/v2/invite/:roomId/:eventId", r.invite)
	g.PUT("/v1/invite/:roomId/:eventId", r.inviteV1)
	g.PUT("/v1/send/:txnId", r.send)
	r.registerEvents(g)
}
