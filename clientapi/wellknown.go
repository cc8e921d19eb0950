package clientapi

import (
	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/models/spec"
)

type wellKnownClientResponse struct {
	Homeserver struct {
		BaseURL string `json:"base_url"`
	} `json:"m.homeserver"`
}

// GET /.well-known/matrix/client (client-server-api "Well-known URIs").
func (a *API) wellKnownClient(c echo.Context) error {
	var resp wellKnownClientResponse
	resp.Homeserver.BaseURL = a.opts.PublicBaseURL
	return ok(c, resp)
}

// GET /.well-known/matrix/server (server-server-api "Resolving server names").
func (a *API) wellKnownServer(c echo.Context) error {
	if a.opts.FederationServer == "" {
		return spec.NotFound("this server does not delegate federation")
	}
	return ok(c, map[string]string{"m.server": a.opts.FederationServer})
}
