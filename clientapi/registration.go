package clientapi

import (
	"crypto/rand"
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/clientapi/authn"
	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/models/spec"
)

// Registration modes (configs.Registration.Mode).
const (
	RegistrationDisabled = "disabled"
	RegistrationToken    = "token"
	RegistrationOpen     = "open"
)

type registerRequest struct {
	// Type is m.login.application_service for application services.
	Type                     string          `json:"type"`
	Auth                     json.RawMessage `json:"auth"`
	Username                 string          `json:"username"`
	Password                 string          `json:"password"`
	DeviceID                 string          `json:"device_id"`
	InitialDeviceDisplayName string          `json:"initial_device_display_name"`
	InhibitLogin             bool            `json:"inhibit_login"`
	RefreshToken             bool            `json:"refresh_token"`
}

type loginResponse struct {
	UserID       spec.UserID `json:"user_id"`
	AccessToken  string      `json:"access_token,omitempty"`
	DeviceID     string      `json:"device_id,omitempty"`
	HomeServer   string      `json:"home_server,omitempty"` // deprecated, still read by old clients
	RefreshToken string      `json:"refresh_token,omitempty"`
	ExpiresInMs  int64       `json:"expires_in_ms,omitempty"`
}

func (a *API) loginResponse(r *authn.LoginResult) loginResponse {
	return loginResponse{UserID: r.UserID, AccessToken: r.AccessToken, DeviceID: r.DeviceID,
		HomeServer: string(a.opts.ServerName), RefreshToken: r.RefreshToken, ExpiresInMs: r.ExpiresInMs}
}

// registrationFlows are the UIA flows of the configured mode.
func (a *API) registrationFlows() [][]string {
	if a.opts.Registration == RegistrationToken {
		return [][]string{{authn.StageRegistrationToken}}
	}
	return [][]string{{authn.StageDummy}}
}

// POST /register (registration.yaml, client-server-api "Account registration").
func (a *API) register(c echo.Context) error {
	if token, _ := accessToken(c.Request()); token != "" {
		// Only application services authenticate registrations.
		if reg := a.opts.Accounts.AppService(token); reg != nil {
			return a.registerAppServiceUser(c, reg)
		}
		return spec.UnknownToken(false, "unknown application service token")
	}
	if err := limit(c, a.opts.RegisterLimiter); err != nil {
		return err
	}
	switch c.QueryParam("kind") {
	case "", "user":
	case "guest":
		return spec.NewError(http.StatusForbidden, spec.ErrGuestAccessForbidden, "guest access is disabled")
	default:
		return spec.InvalidParam("kind must be user or guest")
	}
	if a.opts.Registration != RegistrationOpen && a.opts.Registration != RegistrationToken {
		return spec.Forbidden("registration is disabled on this server")
	}
	var req registerRequest
	if err := echoserver.BindJSON(c, &req); err != nil {
		return err
	}
	if req.Type == loginTypeAppService {
		return spec.MissingToken("%s needs the application service's as_token", loginTypeAppService)
	}
	ctx := c.Request().Context()
	// Check what can be checked before the client goes through UIA.
	if req.Username != "" {
		id, err := a.opts.Accounts.ValidateLocalpart(req.Username)
		if err != nil {
			return err
		}
		if err := a.opts.Accounts.CheckNotExclusive(id, nil); err != nil {
			return err
		}
		if err := a.opts.Accounts.CheckAvailable(ctx, id); err != nil {
			return err
		}
	}
	if req.Password != "" {
		if err := a.opts.Accounts.CheckPasswordStrength(req.Password); err != nil {
			return err
		}
	}
	if err := authn.ValidateDevice(req.DeviceID, req.InitialDeviceDisplayName); err != nil {
		return err
	}
	var uia authn.UIAResult
	if done, err := a.runUIA(c, authn.UIARequest{Purpose: "register", Flows: a.registrationFlows(), Auth: req.Auth, Result: &uia}); !done {
		return err
	}
	if req.Password == "" {
		return spec.BadJSON("password is required")
	}
	return a.finishRegistration(c, req, uia.RegistrationToken)
}

// finishRegistration creates the account; a stored registration token's use
// is claimed first and counted only if the account was made.
func (a *API) finishRegistration(c echo.Context, req registerRequest, regToken string) error {
	ctx := c.Request().Context()
	local := req.Username
	if local == "" {
		local = generatedLocalpart()
	}
	finish, err := a.opts.Accounts.ClaimRegistrationToken(ctx, regToken)
	if err != nil {
		return err
	}
	id, err := a.opts.Accounts.CreateAccount(ctx, authn.NewAccount{Localpart: local, Password: req.Password})
	finish(err == nil)
	if err != nil {
		return err
	}
	return a.registered(c, id, req)
}

// registered answers a registration of id: just the user ID with
// inhibit_login, else a new session's tokens.
func (a *API) registered(c echo.Context, id spec.UserID, req registerRequest) error {
	if req.InhibitLogin {
		return ok(c, loginResponse{UserID: id})
	}
	res, err := a.opts.Accounts.StartSession(c.Request().Context(), authn.LoginRequest{UserID: id, DeviceID: req.DeviceID,
		DisplayName: req.InitialDeviceDisplayName, WantRefresh: req.RefreshToken, IP: c.RealIP()})
	if err != nil {
		return err
	}
	return ok(c, a.loginResponse(res))
}

// GET /register/available
func (a *API) registerAvailable(c echo.Context) error {
	if err := limit(c, a.opts.RegisterLimiter); err != nil {
		return err
	}
	name := c.QueryParam("username")
	if name == "" {
		return spec.MissingParam("username query parameter is required")
	}
	id, err := a.opts.Accounts.ValidateLocalpart(name)
	if err != nil {
		return err
	}
	if err := a.opts.Accounts.CheckNotExclusive(id, nil); err != nil {
		return err
	}
	if err := a.opts.Accounts.CheckAvailable(c.Request().Context(), id); err != nil {
		return err
	}
	return ok(c, map[string]bool{"available": true})
}

// GET /_matrix/client/v1/register/m.login.registration_token/validity
// (registration_tokens.yaml).
func (a *API) registrationTokenValidity(c echo.Context) error {
	if err := limit(c, a.opts.RegisterLimiter); err != nil {
		return err
	}
	if a.opts.Registration != RegistrationToken {
		return spec.Forbidden("registration tokens are not in use on this server")
	}
	token := c.QueryParam("token")
	if token == "" {
		return spec.MissingParam("token query parameter is required")
	}
	valid, err := a.opts.Accounts.RegistrationTokenValid(c.Request().Context(), token)
	if err != nil {
		return err
	}
	return ok(c, map[string]bool{"valid": valid})
}

// generatedLocalpart names an account registered without a username
// (registration.yaml: "If omitted, the homeserver MUST generate a Matrix ID
// local part").
func generatedLocalpart() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	var b [12]byte
	rand.Read(b[:])
	out := []byte("u")
	for _, c := range b {
		out = append(out, alphabet[int(c)%len(alphabet)])
	}
	return string(out)
}
