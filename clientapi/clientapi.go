// Package clientapi implements the Matrix client-server API
// (/_matrix/client/*): thin Echo handlers, one file per spec API file, that
// parse, authorize, call one service or store method and write JSON.
package clientapi

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/clientapi/authn"
	clientsync "github.com/kabarchat/kabar/clientapi/sync"
	"github.com/kabarchat/kabar/e2ee"
	"github.com/kabarchat/kabar/federation/openid"
	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/federation/spaces"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/notifications"
	"github.com/kabarchat/kabar/presence"
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

	// Accounts is the accounts service (tokens, UIA, login).
	Accounts *authn.Service
	// Store serves the plain single-table reads and writes.
	Store Store
	// Registration is RegistrationDisabled, RegistrationToken or
	// RegistrationOpen.
	Registration string
	// RegistrationSharedSecret enables /_synapse/admin/v1/register.
	RegistrationSharedSecret string
	// TokenLogin offers m.login.token and /login/get_token.
	TokenLogin bool
	// LoginLimiter and RegisterLimiter rate-limit login and registration
	// per client address; nil means unlimited.
	LoginLimiter    Limiter
	RegisterLimiter Limiter

	// Sync answers /sync and owns the side streams (account data,
	// receipts, typing); account data writes go through it.
	Sync *clientsync.Syncer

	// Rooms is the room service (every room write and the room reads).
	Rooms *rooms.Service
	// Federation joins remote rooms and invites remote users; nil: local only.
	Federation RemoteMembership
	// MessageLimiter rate-limits event sends per user; nil means unlimited.
	MessageLimiter Limiter
	// EphemeralOut relays local typing and read receipts to the other
	// servers in the room (typing.go); nil: local only.
	EphemeralOut EphemeralPublisher

	// Media is the content repository; a nil Repo leaves its routes out.
	Media MediaOptions
	// E2EE is the key server (keys, cross-signing, to-device); nil leaves
	// those routes unregistered. KeyBackups serves /room_keys.
	E2EE       *e2ee.Service
	KeyBackups KeyBackupStore
	// Push serves push rules, pushers and /notifications; nil leaves those
	// routes unregistered.
	Push *notifications.Service
	// Presence tracks presence; nil leaves its routes unregistered.
	Presence *presence.Tracker

	// UserDirectorySearchAll lists every local user in user directory
	// searches (configs user_directory.search_all_users).
	UserDirectorySearchAll bool

	// VoIP configures GET /voip/turnServer.
	VoIP VoIPOptions
	// Admin enables the Synapse-compatible admin API (admin.go).
	Admin AdminOptions

	// Spaces walks space hierarchies (/hierarchy); nil leaves it out.
	Spaces *spaces.Service
	// OpenID issues tokens for /openid/request_token; nil leaves it out.
	OpenID *openid.Tokens
	// AppServices queries and pings application services (appservice.go);
	// nil leaves their client-server routes out.
	AppServices AppServices
}

// Store is everything the handlers read or write straight from storage;
// *store.Store satisfies it.
type Store interface {
	DeviceStore
	ProfileStore
	AccountDataStore
}

// API holds the client API's dependencies.
type API struct {
	opts   Options
	log    *slog.Logger
	nonces *nonces
}

// New builds the client API.
func New(opts Options) (*API, error) {
	if opts.Accounts == nil || opts.Store == nil || opts.Sync == nil {
		return nil, errors.New("clientapi: Accounts, Store and Sync are required")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &API{opts: opts, log: log, nonces: &nonces{m: map[string]time.Time{}, now: time.Now}}, nil
}

// Register mounts every client API route on e.
func (a *API) Register(e *echo.Echo) {
	e.GET("/.well-known/matrix/client", a.wellKnownClient)
	e.GET("/.well-known/matrix/server", a.wellKnownServer)
	e.GET("/_matrix/client/versions", a.versions)
	e.POST(slidingSyncPath, a.slidingSync, a.requireAuth)

	v3 := newRouteGroup(e, "/_matrix/client/v3")
	r0 := newRouteGroup(e, "/_matrix/client/r0") // legacy prefix some clients still use
	for _, g := range []routeGroup{v3, r0} {
		a.registerAccounts(g)
		a.registerRooms(g)
		a.registerSync(g)
		a.registerE2EE(g)
		a.registerPush(g)
		a.registerPresence(g)
		a.registerSearch(g)
		a.registerOpenID(g)
		g.GET("/voip/turnServer", a.turnServer, a.requireAuth)
	}
	v1 := newRouteGroup(e, "/_matrix/client/v1")
	a.registerV1Rooms(v1)
	a.registerRelations(v1)
	v1.GET("/register/m.login.registration_token/validity", a.registrationTokenValidity)
	if a.opts.TokenLogin {
		v1.POST("/login/get_token", a.getLoginToken, a.requireAuth)
	}
	a.registerMedia(e)
	a.registerAppServices(e)
	a.registerAdmin(e)
	if a.opts.RegistrationSharedSecret != "" {
		e.GET("/_synapse/admin/v1/register", a.sharedSecretNonce)
		e.POST("/_synapse/admin/v1/register", a.sharedSecretRegister)
	}
}

// registerAccounts mounts the account, session, device, profile and account
// data routes under one version prefix.
func (a *API) registerAccounts(g routeGroup) {
	auth := a.requireAuth
	g.GET("/capabilities", a.capabilities, auth)
	g.POST("/register", a.register)
	g.GET("/register/available", a.registerAvailable)
	g.GET("/login", a.loginFlows)
	g.POST("/login", a.login)
	g.POST("/logout", a.logout, auth)
	g.POST("/logout/all", a.logoutAll, auth)
	g.POST("/refresh", a.refresh)
	g.GET("/account/whoami", a.whoami, auth)
	g.POST("/account/password", a.changePassword, auth)
	g.POST("/account/deactivate", a.deactivate, auth)
	g.GET("/devices", a.listDevices, auth)
	g.GET("/devices/:deviceId", a.getDevice, auth)
	g.PUT("/devices/:deviceId", a.updateDevice, auth)
	g.DELETE("/devices/:deviceId", a.deleteDevice, auth)
	g.POST("/delete_devices", a.deleteDevices, auth)
	g.GET("/profile/:userId", a.getProfile)
	for _, field := range []string{"displayname", "avatar_url"} {
		g.GET("/profile/:userId/"+field, a.getProfileField(field))
		g.PUT("/profile/:userId/"+field, a.setProfileField(field), auth)
	}
	g.GET("/user/:userId/account_data/:type", a.getAccountData(false), auth)
	g.PUT("/user/:userId/account_data/:type", a.putAccountData(false), auth)
	g.GET("/user/:userId/rooms/:roomId/account_data/:type", a.getAccountData(true), auth)
	g.PUT("/user/:userId/rooms/:roomId/account_data/:type", a.putAccountData(true), auth)
}

func ok(c echo.Context, body any) error { return c.JSON(http.StatusOK, body) }
