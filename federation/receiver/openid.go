package receiver

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/federation/openid"
	"github.com/kabarchat/kabar/models/spec"
)

// RegisterOpenID mounts GET /_matrix/federation/v1/openid/userinfo
// (server-server-api "OpenID"). It is not X-Matrix signed: the caller is
// any third party holding a token, and the token is the credential.
func (r *Receiver) RegisterOpenID(e *echo.Echo, tokens *openid.Tokens) {
	e.GET("/_matrix/federation/v1/openid/userinfo", func(c echo.Context) error {
		token := c.QueryParam("access_token")
		if token == "" {
			return spec.MissingParam("access_token is required")
		}
		user, ok := tokens.User(token)
		if !ok {
			return spec.UnknownToken(false, "access token unknown or expired")
		}
		return c.JSON(http.StatusOK, map[string]string{"sub": string(user)})
	})
}
