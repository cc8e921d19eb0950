package clientapi

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/clientapi/authn"
	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
)

// adminUserJSON is a user as Synapse's admin API shows it.
type adminUserJSON struct {
	Name         string  `json:"name"`
	DisplayName  string  `json:"displayname"`
	AvatarURL    *string `json:"avatar_url"`
	Admin        bool    `json:"admin"`
	Deactivated  bool    `json:"deactivated"`
	IsGuest      bool    `json:"is_guest"`
	UserType     *string `json:"user_type"`
	CreationTS   int64   `json:"creation_ts"`
	ShadowBanned bool    `json:"shadow_banned"`
	Locked       bool    `json:"locked"`
	Erased       bool    `json:"erased"`
	Threepids    []any   `json:"threepids"`
	ExternalIDs  []any   `json:"external_ids"`
}

func userJSON(u *models.AdminUser) adminUserJSON {
	out := adminUserJSON{Name: u.UserID, DisplayName: u.DisplayName, Admin: u.IsAdmin, Deactivated: u.Deactivated,
		IsGuest: u.IsGuest, CreationTS: u.CreatedAt, Threepids: []any{}, ExternalIDs: []any{}}
	if u.AvatarURL != "" {
		out.AvatarURL = &u.AvatarURL
	}
	if u.UserType != "" {
		out.UserType = &u.UserType
	}
	return out
}

// GET /_synapse/admin/v2/users?from=&limit=&name=&guests=&deactivated=
func (a *API) adminListUsers(c echo.Context) error {
	from, limit, err := pageParams(c, 100)
	if err != nil {
		return err
	}
	q := models.UserQuery{From: from, Limit: limit, Name: c.QueryParam("name")}
	if q.Name == "" {
		q.Name = c.QueryParam("user_id")
	}
	if q.Guests, err = boolParam(c, "guests", true); err != nil {
		return err
	}
	if q.Deactivated, err = boolParam(c, "deactivated", false); err != nil {
		return err
	}
	users, total, err := a.opts.Admin.Store.ListUsers(c.Request().Context(), q)
	if err != nil {
		return err
	}
	out := make([]adminUserJSON, len(users))
	for i := range users {
		out[i] = userJSON(&users[i])
	}
	body := map[string]any{"users": out, "total": total}
	if int64(from+len(users)) < total && len(users) > 0 {
		body["next_token"] = strconv.Itoa(from + len(users))
	}
	return ok(c, body)
}

// GET /_synapse/admin/v2/users/{userId}
func (a *API) adminGetUser(c echo.Context) error {
	id, err := a.adminLocalUser(c)
	if err != nil {
		return err
	}
	u, err := a.adminUser(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return ok(c, userJSON(u))
}

type adminPutUserRequest struct {
	Password      *string `json:"password"`
	LogoutDevices *bool   `json:"logout_devices"`
	DisplayName   *string `json:"displayname"`
	AvatarURL     *string `json:"avatar_url"`
	Admin         *bool   `json:"admin"`
	Deactivated   *bool   `json:"deactivated"`
	UserType      *string `json:"user_type"`
}

// PUT /_synapse/admin/v2/users/{userId}: creates the account (201) or
// changes it (200), answering with the user.
func (a *API) adminPutUser(c echo.Context) error {
	id, err := a.adminLocalUser(c)
	if err != nil {
		return err
	}
	var req adminPutUserRequest
	if err := echoserver.BindJSON(c, &req); err != nil {
		return err
	}
	if err := a.checkPutUser(c, id, req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	status := http.StatusOK
	u, err := a.opts.Admin.Store.GetAdminUser(ctx, string(id))
	if errors.Is(err, models.ErrNotFound) {
		if err = a.adminCreateUser(c, id, req); err != nil {
			return err
		}
		status = http.StatusCreated
	} else if err != nil {
		return err
	} else if err = a.adminModifyUser(c, u, req); err != nil {
		return err
	}
	if u, err = a.adminUser(ctx, id); err != nil {
		return err
	}
	return c.JSON(status, userJSON(u))
}

// checkPutUser validates the fields before anything is written.
func (a *API) checkPutUser(c echo.Context, id spec.UserID, req adminPutUserRequest) error {
	if req.Password != nil {
		if err := a.opts.Accounts.CheckPasswordStrength(*req.Password); err != nil {
			return err
		}
	}
	if req.DisplayName != nil {
		if err := validateProfileField("displayname", *req.DisplayName); err != nil {
			return err
		}
	}
	if req.AvatarURL != nil {
		if err := validateProfileField("avatar_url", *req.AvatarURL); err != nil {
			return err
		}
	}
	if req.Admin != nil && !*req.Admin && string(id) == session(c).UserID {
		return spec.InvalidParam("you may not demote yourself")
	}
	if req.UserType != nil && len(*req.UserType) > 64 {
		return spec.InvalidParam("user_type is too long")
	}
	return nil
}

func (a *API) adminCreateUser(c echo.Context, id spec.UserID, req adminPutUserRequest) error {
	if req.Deactivated != nil && *req.Deactivated {
		return spec.InvalidParam("cannot create a deactivated user")
	}
	na := authn.NewAccount{Localpart: id.Localpart(), Admin: req.Admin != nil && *req.Admin}
	if req.Password != nil {
		na.Password = *req.Password
	}
	if req.DisplayName != nil {
		na.DisplayName = *req.DisplayName
	}
	if req.UserType != nil {
		na.UserType = *req.UserType
	}
	ctx := c.Request().Context()
	if _, err := a.opts.Accounts.CreateAccount(ctx, na); err != nil {
		return err
	}
	if req.AvatarURL != nil {
		return a.opts.Store.SetProfileField(ctx, string(id), "avatar_url", *req.AvatarURL)
	}
	return nil
}

// adminModifyUser applies the requested changes through the accounts
// service, so tokens are revoked and caches invalidated as for the user's
// own requests.
func (a *API) adminModifyUser(c echo.Context, u *models.AdminUser, req adminPutUserRequest) error {
	ctx := c.Request().Context()
	if u.Deactivated && (req.Deactivated == nil || *req.Deactivated) && (req.Password != nil || req.Admin != nil) {
		return spec.InvalidParam("the user is deactivated")
	}
	if req.Deactivated != nil && !*req.Deactivated && u.Deactivated {
		// NOTSPEC: a deactivated ID is retired for good here.
		return spec.InvalidParam("reactivating a deactivated user is not supported")
	}
	if req.Password != nil {
		logout := req.LogoutDevices == nil || *req.LogoutDevices
		if err := a.opts.Accounts.ChangePassword(ctx, u.UserID, *req.Password, "", logout); err != nil {
			return err
		}
	}
	if req.Admin != nil && *req.Admin != u.IsAdmin {
		if err := a.opts.Accounts.SetAdmin(ctx, u.UserID, *req.Admin); err != nil {
			return err
		}
	}
	if err := a.adminSetProfile(c, u, req); err != nil {
		return err
	}
	if req.Deactivated != nil && *req.Deactivated && !u.Deactivated {
		return a.adminDeactivateUser(c, u.UserID)
	}
	return nil
}

func (a *API) adminSetProfile(c echo.Context, u *models.AdminUser, req adminPutUserRequest) error {
	ctx := c.Request().Context()
	changed := false
	for field, v := range map[string]*string{"displayname": req.DisplayName, "avatar_url": req.AvatarURL} {
		if v == nil {
			continue
		}
		if err := a.opts.Store.SetProfileField(ctx, u.UserID, field, *v); err != nil {
			return err
		}
		changed = true
	}
	if changed {
		a.propagateProfile(ctx, spec.UserID(u.UserID))
	}
	return nil
}

type resetPasswordRequest struct {
	NewPassword   string `json:"new_password"`
	LogoutDevices *bool  `json:"logout_devices"`
}

// POST /_synapse/admin/v1/reset_password/{userId}
func (a *API) adminResetPassword(c echo.Context) error {
	id, err := a.adminLocalUser(c)
	if err != nil {
		return err
	}
	var req resetPasswordRequest
	if err := echoserver.BindJSON(c, &req); err != nil {
		return err
	}
	if req.NewPassword == "" {
		return spec.MissingParam("new_password is required")
	}
	ctx := c.Request().Context()
	u, err := a.adminUser(ctx, id)
	if err != nil {
		return err
	}
	if u.Deactivated {
		return spec.InvalidParam("the user is deactivated")
	}
	logout := req.LogoutDevices == nil || *req.LogoutDevices
	if err := a.opts.Accounts.ChangePassword(ctx, u.UserID, req.NewPassword, "", logout); err != nil {
		return err
	}
	if logout {
		a.devicesChanged(c, u.UserID, nil)
	}
	return ok(c, struct{}{})
}

// POST /_synapse/admin/v1/deactivate/{userId}
func (a *API) adminDeactivate(c echo.Context) error {
	id, err := a.adminLocalUser(c)
	if err != nil {
		return err
	}
	var req struct {
		Erase bool `json:"erase"`
	}
	if err := echoserver.BindJSON(c, &req); err != nil {
		return err
	}
	u, err := a.adminUser(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if !u.Deactivated {
		if err := a.adminDeactivateUser(c, u.UserID); err != nil {
			return err
		}
	}
	// No identity server bindings exist here, so nothing was unbound.
	return ok(c, map[string]string{"id_server_unbind_result": "no-support"})
}

func (a *API) adminDeactivateUser(c echo.Context, userID string) error {
	if err := a.opts.Accounts.Deactivate(c.Request().Context(), userID); err != nil {
		return err
	}
	a.devicesChanged(c, userID, nil)
	return nil
}
