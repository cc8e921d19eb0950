package clientapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
)

// routeGroup mounts client API routes under one prefix, each with
// echoserver.UnescapeParams ahead of its own middleware, so handlers read
// decoded path parameters with c.Param: clients escape IDs differently
// (Synapse-style %21room%3Aserver, a v3 event ID's %2F), and Echo hands
// handlers the escaped segments whenever the request has a RawPath.
//
// The middleware is attached per route, not with Group.Use: a group with
// middleware answers its whole prefix through a catch-all route, which
// turns a wrong method into 404 instead of 405 M_UNRECOGNIZED.
type routeGroup struct{ g *echo.Group }

// newRouteGroup starts a route group at prefix on e.
func newRouteGroup(e *echo.Echo, prefix string) routeGroup {
	return routeGroup{g: e.Group(prefix)}
}

func (r routeGroup) GET(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
	r.add(http.MethodGet, path, h, m)
}

func (r routeGroup) PUT(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
	r.add(http.MethodPut, path, h, m)
}

func (r routeGroup) POST(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
	r.add(http.MethodPost, path, h, m)
}

func (r routeGroup) DELETE(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
	r.add(http.MethodDelete, path, h, m)
}

func (r routeGroup) add(method, path string, h echo.HandlerFunc, m []echo.MiddlewareFunc) {
	r.g.Add(method, path, h, unescaped(m...)...)
}

// unescaped puts echoserver.UnescapeParams in front of a route's
// middleware, for routes mounted outside a routeGroup.
func unescaped(m ...echo.MiddlewareFunc) []echo.MiddlewareFunc {
	return append([]echo.MiddlewareFunc{echoserver.UnescapeParams}, m...)
}
