package clientapi

import (
	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/models/spec"
)

type changePasswordRequest struct {
	uiaOnlyRequest
	NewPassword   string `json:"new_password"`
	LogoutDevices *bool  `json:"logout_devices"`
}

// POST /account/password (password_management.yaml). logout_devices
// defaults to true and keeps the device making the request.
func (a *API) changePassword(c echo.Context) error {
	var req changePasswordRequest
	if err := echoserver.BindJSON(c, &req); err != nil {
		return err
	}
	if req.NewPassword != "" {
		if err := a.opts.Accounts.CheckPasswordStrength(req.NewPassword); err != nil {
			return err
		}
	}
	if done, err := a.passwordUIA(c, "password", req.Auth); !done {
		return err
	}
	sess := session(c)
	if req.NewPassword == "" {
		return spec.BadJSON("new_password is required")
	}
	logout := req.LogoutDevices == nil || *req.LogoutDevices
	if err := a.opts.Accounts.ChangePassword(c.Request().Context(), sess.UserID, req.NewPassword, sess.DeviceID, logout); err != nil {
		return err
	}
	if logout {
		a.devicesChanged(c, sess.UserID, nil)
	}
	return ok(c, struct{}{})
}

type deactivateRequest struct {
	uiaOnlyRequest
	Erase    bool   `json:"erase"`
	IDServer string `json:"id_server"`
}

// POST /account/deactivate (account_deactivation.yaml). The account keeps
// its row, so its user ID is never registered again.
func (a *API) deactivate(c echo.Context) error {
	var req deactivateRequest
	if err := echoserver.BindJSON(c, &req); err != nil {
		return err
	}
	if done, err := a.passwordUIA(c, "deactivate", req.Auth); !done {
		return err
	}
	sess := session(c)
	if err := a.opts.Accounts.Deactivate(c.Request().Context(), sess.UserID); err != nil {
		return err
	}
	a.devicesChanged(c, sess.UserID, nil)
	// No identity server bindings exist here, so nothing was unbound.
	return ok(c, map[string]string{"id_server_unbind_result": "no-support"})
}
