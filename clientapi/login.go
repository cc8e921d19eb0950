package clientapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/clientapi/authn"
	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/models/spec"
)

const (
	loginTypePassword = "m.login.password"
	loginTypeToken    = "m.login.token"
)

type loginRequest struct {
	Type                     string                `json:"type"`
	Identifier               *authn.UserIdentifier `json:"identifier"`
	User                     string                `json:"user"` // deprecated top-level user
	Password                 string                `json:"password"`
	Token                    string                `json:"token"`
	DeviceID                 string                `json:"device_id"`
	InitialDeviceDisplayName string                `json:"initial_device_display_name"`
	RefreshToken             bool                  `json:"refresh_token"`
}

// GET /login (login.yaml): the login types this server accepts.
func (a *API) loginFlows(c echo.Context) error {
	flows := []map[string]any{{"type": loginTypePassword}}
	if a.opts.TokenLogin {
		flows = append(flows, map[string]any{"type": loginTypeToken, "get_login_token": true})
	}
	if a.opts.Accounts.JWTEnabled() {
		flows = append(flows, map[string]any{"type": authn.LoginTypeJWT})
	}
	if len(a.opts.Accounts.AppServiceRegistry().All()) > 0 {
		flows = append(flows, map[string]any{"type": loginTypeAppService})
	}
	return ok(c, map[string]any{"flows": flows})
}

// POST /login (login.yaml).
func (a *API) login(c echo.Context) error {
	if err := a.limitUnlessAppService(c, a.opts.LoginLimiter); err != nil {
		return err
	}
	var req loginRequest
	if err := echoserver.BindJSON(c, &req); err != nil {
		return err
	}
	id, err := a.loginUser(c, req)
	if err != nil {
		return err
	}
	res, err := a.opts.Accounts.StartSession(c.Request().Context(), authn.LoginRequest{UserID: id,
		DeviceID: req.DeviceID, DisplayName: req.InitialDeviceDisplayName, WantRefresh: req.RefreshToken, IP: c.RealIP()})
	if err != nil {
		return err
	}
	return ok(c, a.loginResponse(res))
}

// loginUser authenticates the request by its login type.
func (a *API) loginUser(c echo.Context, req loginRequest) (spec.UserID, error) {
	ctx := c.Request().Context()
	switch req.Type {
	case "":
		return "", spec.BadJSON("type is required")
	case loginTypePassword:
		id, err := a.loginIdentifier(req)
		if err != nil {
			return "", err
		}
		if _, err := a.opts.Accounts.CheckPassword(ctx, id, req.Password); err != nil {
			return "", err
		}
		return id, nil
	case loginTypeToken:
		if !a.opts.TokenLogin {
			break
		}
		if req.Token == "" {
			return "", spec.BadJSON("token is required")
		}
		return a.opts.Accounts.ConsumeLoginToken(ctx, req.Token)
	case authn.LoginTypeJWT:
		if !a.opts.Accounts.JWTEnabled() {
			break
		}
		if req.Token == "" {
			return "", spec.BadJSON("token is required")
		}
		return a.opts.Accounts.LoginJWT(ctx, req.Token)
	case loginTypeAppService:
		return a.appServiceLogin(c, req)
	}
	return "", spec.NewError(http.StatusBadRequest, spec.ErrUnknown, "unsupported login type %q", req.Type)
}

// loginIdentifier is the local user a login names (identifier of type
// m.id.user, or the deprecated top-level user).
func (a *API) loginIdentifier(req loginRequest) (spec.UserID, error) {
	user := req.User
	if req.Identifier != nil {
		if req.Identifier.Type != "m.id.user" {
			return "", spec.NewError(http.StatusBadRequest, spec.ErrUnknown, "only m.id.user identifiers are supported")
		}
		user = req.Identifier.User
	}
	if user == "" {
		return "", spec.BadJSON("identifier.user is required")
	}
	return a.opts.Accounts.ResolveUser(user)
}

// POST /_matrix/client/v1/login/get_token (login_token.yaml): a short-lived
// m.login.token for signing in another device, behind UIA.
func (a *API) getLoginToken(c echo.Context) error {
	if err := limit(c, a.opts.LoginLimiter); err != nil {
		return err
	}
	var req uiaOnlyRequest
	if err := echoserver.BindJSON(c, &req); err != nil {
		return err
	}
	if done, err := a.passwordUIA(c, "get_token", req.Auth); !done {
		return err
	}
	tok, ms, err := a.opts.Accounts.NewLoginToken(c.Request().Context(), session(c).UserID)
	if err != nil {
		return err
	}
	return ok(c, map[string]any{"login_token": tok, "expires_in_ms": ms})
}
