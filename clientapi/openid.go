package clientapi

import (
	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/models/spec"
)

// registerOpenID mounts POST /user/{userId}/openid/request_token
// (openid.yaml); without a token store it is not served.
func (a *API) registerOpenID(g routeGroup) {
	if a.opts.OpenID == nil {
		return
	}
	g.POST("/user/:userId/openid/request_token", a.requestOpenIDToken, a.requireAuth)
}

// requestOpenIDToken issues a token a third party can exchange, through
// our federation /openid/userinfo, for the caller's user ID. Only for the
// caller's own user ID.
func (a *API) requestOpenIDToken(c echo.Context) error {
	raw := c.Param("userId")
	if _, err := spec.ParseUserID(raw); err != nil {
		return spec.InvalidParam("invalid user ID: %v", err)
	}
	if raw != session(c).UserID {
		return spec.Forbidden("you can only request OpenID tokens for yourself")
	}
	var body struct{}
	if err := echoserver.BindJSON(c, &body); err != nil {
		return err
	}
	token, ttl, err := a.opts.OpenID.Issue(spec.UserID(raw))
	if err != nil {
		return err
	}
	return ok(c, map[string]any{
		"access_token":       token,
		"token_type":         "Bearer",
		"matrix_server_name": a.opts.ServerName,
		"expires_in":         int64(ttl.Seconds()),
	})
}
