package clientapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/appservice"
	"github.com/kabarchat/kabar/clientapi/authn"
	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
)

// AppServices is what the client API asks of the application services
// (*appservice.Service satisfies it): queries for users and aliases in
// their exclusive namespaces, and pings.
type AppServices interface {
	QueryUser(ctx context.Context, user spec.UserID) (bool, error)
	QueryAlias(ctx context.Context, alias spec.RoomAlias) (bool, error)
	Ping(ctx context.Context, reg *appservice.Registration, txnID string) (appservice.PingResult, error)
}

// Errcodes of the application service endpoints (ping.yaml, registration).
const (
	errURLNotSet         spec.Errcode = "M_URL_NOT_SET"
	errBadStatus         spec.Errcode = "M_BAD_STATUS"
	errConnectionFailed  spec.Errcode = "M_CONNECTION_FAILED"
	errConnectionTimeout spec.Errcode = "M_CONNECTION_TIMEOUT"
)

const (
	appServiceKey = "kabar.appservice"
	// loginTypeAppService is the registration type of application
	// services (application-service-api.md "Server admin style permissions").
	loginTypeAppService = "m.login.application_service"
)

// registerAppServices mounts the client-server extensions only application
// services may call.
func (a *API) registerAppServices(e *echo.Echo) {
	if a.opts.AppServices == nil {
		return
	}
	e.POST("/_matrix/client/v1/appservice/:appserviceId/ping", a.appServicePing, unescaped(a.requireAuth)...)
	for _, v := range []string{"v3", "r0"} {
		if a.opts.Rooms == nil {
			break
		}
		e.PUT("/_matrix/client/"+v+"/directory/list/appservice/:networkId/:roomId", a.appServiceDirectory, unescaped(a.requireAuth)...)
	}
}

// appServiceOf is the application service making the request, nil for a
// normal user; only valid behind requireAuth.
func appServiceOf(c echo.Context) *appservice.Registration {
	reg, _ := c.Get(appServiceKey).(*appservice.Registration)
	return reg
}

// appServiceDevice is the ?device_id= an application service acts with
// (application-service-api.md "Identity assertion", v1.17): it must belong
// to the user acted as, else 400 M_UNKNOWN_DEVICE; "" when absent.
func (a *API) appServiceDevice(c echo.Context, user string) (string, error) {
	dev := c.QueryParam("device_id")
	if dev == "" {
		return "", nil
	}
	_, err := a.opts.Store.GetDevice(c.Request().Context(), user, dev)
	if errors.Is(err, models.ErrNotFound) {
		return "", spec.NewError(http.StatusBadRequest, spec.ErrUnknownDevice, "device %s does not belong to %s", dev, user)
	}
	return dev, err
}

// messageLimitKey keys the per-user message limit; "" (no limit) for an
// application service's sender, and for its users when it is registered
// with rate_limited: false.
func messageLimitKey(c echo.Context) string {
	sess := session(c)
	if reg := appServiceOf(c); reg != nil && (!reg.IsRateLimited() || sess.UserID == string(reg.Sender)) {
		return ""
	}
	return sess.UserID
}

// massagedTS is the ?ts= of an application service's send or state request
// (application-service-api.md "Timestamp massaging"); 0 when absent or not
// an application service. An invalid value is 400 M_INVALID_PARAM.
func massagedTS(c echo.Context) (int64, error) {
	raw := c.QueryParam("ts")
	if raw == "" || appServiceOf(c) == nil {
		return 0, nil
	}
	ts, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || ts <= 0 || ts > 1<<53-1 {
		return 0, spec.InvalidParam("ts must be a positive integer timestamp in milliseconds")
	}
	return ts, nil
}

// registerAppServiceUser is POST /register with an as_token: the service
// creates a passwordless user in its namespace, bypassing the registration
// flows and mode (application-service-api.md "Server admin style
// permissions").
func (a *API) registerAppServiceUser(c echo.Context, reg *appservice.Registration) error {
	var req registerRequest
	if err := echoserver.BindJSON(c, &req); err != nil {
		return err
	}
	if req.Type != loginTypeAppService && authType(req.Auth) != loginTypeAppService {
		return spec.BadJSON("registration with an application service token must use type %s", loginTypeAppService)
	}
	if req.Username == "" {
		return spec.MissingParam("username is required")
	}
	id, err := a.opts.Accounts.ValidateLocalpart(req.Username)
	if err != nil {
		return err
	}
	if !reg.OwnsUser(id) {
		return spec.NewError(http.StatusBadRequest, spec.ErrExclusive, "user ID %s is not in the application service's namespace", id)
	}
	if err := a.opts.Accounts.CheckNotExclusive(id, reg); err != nil {
		return err
	}
	if err := authn.ValidateDevice(req.DeviceID, req.InitialDeviceDisplayName); err != nil {
		return err
	}
	if _, err := a.opts.Accounts.CreateAccount(c.Request().Context(), authn.NewAccount{Localpart: id.Localpart(), AppService: reg}); err != nil {
		return err
	}
	return a.registered(c, id, req)
}

// limitUnlessAppService applies l unless the request carries an as_token
// (application services are not limited per address).
func (a *API) limitUnlessAppService(c echo.Context, l Limiter) error {
	if token, _ := accessToken(c.Request()); token != "" && a.opts.Accounts.AppService(token) != nil {
		return nil
	}
	return limit(c, l)
}

// appServiceLogin is POST /login with m.login.application_service
// (client-server-api "Appservice Login"): the as_token's service logs in
// as a registered user of its namespace. A missing or unknown token is 401
// (application-service-api.md "Server admin style permissions"), a user
// outside the namespace 403 M_EXCLUSIVE, an unregistered one 403
// M_FORBIDDEN.
func (a *API) appServiceLogin(c echo.Context, req loginRequest) (spec.UserID, error) {
	token, err := accessToken(c.Request())
	if err != nil {
		return "", err
	}
	reg := a.opts.Accounts.AppService(token)
	if reg == nil {
		return "", spec.UnknownToken(false, "unknown application service token")
	}
	id, err := a.loginIdentifier(req)
	if err != nil {
		return "", err
	}
	if !reg.OwnsUser(id) {
		return "", spec.NewError(http.StatusForbidden, spec.ErrExclusive, "user %s is not in the application service's namespace", id)
	}
	exists, err := a.opts.Accounts.UserExists(c.Request().Context(), id)
	if err != nil {
		return "", err
	}
	if !exists {
		return "", spec.Forbidden("application service has not registered %s", id)
	}
	return id, nil
}

// authType is auth.type of a registration body ("" if absent): some
// bridges send the application service type there.
func authType(auth json.RawMessage) string {
	var a struct {
		Type string `json:"type"`
	}
	json.Unmarshal(auth, &a)
	return a.Type
}

// POST /_matrix/client/v1/appservice/{appserviceId}/ping (ping.yaml,
// client-server side): only the service itself may ask.
func (a *API) appServicePing(c echo.Context) error {
	reg := appServiceOf(c)
	id := c.Param("appserviceId")
	if reg == nil || reg.ID != id {
		return spec.Forbidden("only application service %q may ping itself", id)
	}
	var body struct {
		TransactionID string `json:"transaction_id"`
	}
	if err := echoserver.BindJSON(c, &body); err != nil {
		return err
	}
	res, err := a.opts.AppServices.Ping(c.Request().Context(), reg, body.TransactionID)
	if err != nil {
		return pingErr(err)
	}
	return ok(c, map[string]int64{"duration_ms": res.Duration.Milliseconds()})
}

// pingErr maps a failed ping to ping.yaml's errors.
func pingErr(err error) error {
	var se *appservice.StatusError
	switch {
	case errors.Is(err, appservice.ErrNoURL):
		return spec.NewError(http.StatusBadRequest, errURLNotSet, "the application service has no url")
	case errors.As(err, &se):
		e := spec.NewError(http.StatusBadGateway, errBadStatus, "the application service answered %d", se.Status)
		e.Extra = map[string]any{"status": se.Status, "body": se.Body}
		return e
	case appservice.IsTimeout(err):
		return spec.NewError(http.StatusGatewayTimeout, errConnectionTimeout, "the application service did not answer in time")
	default:
		e := spec.NewError(http.StatusBadGateway, errConnectionFailed, "could not reach the application service")
		e.Cause = err
		return e
	}
}

// PUT /directory/list/appservice/{networkId}/{roomId}
// (application-service-api.md "Room directory"; list_public_rooms.yaml
// updateAppserviceRoomDirectoryVisibility). NOTSPEC: the network ID is not
// kept; the room is listed in (or removed from) the one public directory.
func (a *API) appServiceDirectory(c echo.Context) error {
	return a.setVisibility(c, func(spec.RoomID) error {
		if appServiceOf(c) == nil {
			return spec.Forbidden("only application services may use this endpoint")
		}
		return nil
	})
}

// requireLocalUser is 404 M_NOT_FOUND unless the local user exists or an
// application service holding it exclusively confirms it (and so has it
// created: application-service-api.md "Querying").
func (a *API) requireLocalUser(ctx context.Context, user spec.UserID) error {
	_, err := a.opts.Store.GetProfile(ctx, string(user))
	if errors.Is(err, models.ErrNotFound) && a.opts.AppServices != nil {
		var found bool
		if found, err = a.opts.AppServices.QueryUser(ctx, user); err == nil && !found {
			err = models.ErrNotFound
		}
	}
	if errors.Is(err, models.ErrNotFound) {
		return spec.NotFound("user %s does not exist", user)
	}
	return err
}

// checkAliasNamespace refuses creating or deleting an alias another
// application service holds exclusively (400 M_EXCLUSIVE); ownsAlias reports
// whether the caller is a service whose namespace holds it.
func (a *API) checkAliasNamespace(c echo.Context, alias spec.RoomAlias) (ownsAlias bool, err error) {
	reg := appServiceOf(c)
	if reg != nil && reg.OwnsAlias(alias) {
		return true, nil
	}
	if a.opts.Accounts.AppServiceRegistry().ExclusiveAlias(alias) != nil {
		return false, spec.NewError(http.StatusBadRequest, spec.ErrExclusive, "room alias %s is reserved by an application service", alias)
	}
	return false, nil
}
