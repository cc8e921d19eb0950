package clientapi

import (
	"encoding/json"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/models/spec"
)

// uiaOnlyRequest is a body that carries nothing but UIA auth.
type uiaOnlyRequest struct {
	Auth json.RawMessage `json:"auth"`
}

// POST /logout (logout.yaml): revokes this token and deletes its device.
func (a *API) logout(c echo.Context) error {
	sess := session(c)
	if err := a.opts.Accounts.DeleteDevices(c.Request().Context(), sess.UserID, []string{sess.DeviceID}); err != nil {
		return err
	}
	a.devicesChanged(c, sess.UserID, []string{sess.DeviceID})
	return ok(c, struct{}{})
}

// POST /logout/all (logout.yaml): every device of the user.
func (a *API) logoutAll(c echo.Context) error {
	if err := a.opts.Accounts.LogoutAll(c.Request().Context(), session(c).UserID, ""); err != nil {
		return err
	}
	a.devicesChanged(c, session(c).UserID, nil)
	return ok(c, struct{}{})
}

// GET /account/whoami (whoami.yaml).
func (a *API) whoami(c echo.Context) error {
	sess := session(c)
	return ok(c, whoamiResponse{UserID: sess.UserID, DeviceID: sess.DeviceID})
}

// whoamiResponse is typed rather than a map: whoami is a hot path (clients
// call it at start-up and proxies as a token check).
type whoamiResponse struct {
	UserID   string `json:"user_id"`
	DeviceID string `json:"device_id,omitempty"`
	IsGuest  bool   `json:"is_guest"`
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// POST /refresh (refresh.yaml, client-server-api "Refreshing access tokens").
func (a *API) refresh(c echo.Context) error {
	var req refreshRequest
	if err := echoserver.BindJSON(c, &req); err != nil {
		return err
	}
	if req.RefreshToken == "" {
		return spec.BadJSON("refresh_token is required")
	}
	res, err := a.opts.Accounts.Refresh(c.Request().Context(), req.RefreshToken)
	if err != nil {
		return err
	}
	return ok(c, map[string]any{"access_token": res.AccessToken, "refresh_token": res.RefreshToken,
		"expires_in_ms": res.ExpiresInMs})
}
