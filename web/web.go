// Package web serves Kabar's bundled web client at "/": the Vite build output
// embedded with go:embed, with an SPA fallback, long-lived caching for hashed
// assets and a strict Content-Security-Policy.
package web

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"
)

// dist holds the committed PLACEHOLDER.md and, after `make web`, the built
// client in dist/client. The "all:" prefix keeps Vite's files even if a name
// ever starts with "." or "_".
//
//go:embed all:dist
var dist embed.FS

// clientDir is where `npm run build` writes the bundle inside dist.
const clientDir = "dist/client"

// Register mounts the web client as a middleware that only acts when routing
// found nothing (Echo's plain 404). A catch-all route would instead turn an
// unknown API method into 405, or a known path with the wrong method into 404,
// where the client-server API ("API standards") asks for the opposite.
func Register(e *echo.Echo) {
	client, err := fs.Sub(dist, clientDir)
	if err != nil {
		// fs.Sub only fails on an invalid path; clientDir is a constant.
		panic(fmt.Sprintf("web: %v", err))
	}
	register(e, client)
}

// register mounts a handler serving files from client (the root of a Vite
// build: index.html plus assets/). Tests pass their own file system.
func register(e *echo.Echo, client fs.FS) {
	h := newHandler(client)
	e.Use(h.fallback)
}

// reservedPrefixes are never answered by the SPA: API paths that do not exist
// must get the Matrix 404 M_UNRECOGNIZED JSON (client-server-api "API
// standards"), not an HTML page a client cannot parse.
var reservedPrefixes = []string{"/_matrix/", "/_synapse/", "/.well-known/"}

// reservedPaths are exact server paths outside the client's URL space.
var reservedPaths = map[string]bool{
	"/_matrix": true, "/_synapse": true, "/.well-known": true, "/metrics": true, "/health": true,
}

// isReserved reports whether urlPath belongs to the server, not the client.
func isReserved(urlPath string) bool {
	if reservedPaths[urlPath] {
		return true
	}
	for _, p := range reservedPrefixes {
		if strings.HasPrefix(urlPath, p) {
			return true
		}
	}
	return strings.HasPrefix(urlPath, "/metrics/") || strings.HasPrefix(urlPath, "/health/")
}

// cleanPath turns a request path into an fs.FS name ("" for the root).
func cleanPath(urlPath string) string {
	return strings.TrimPrefix(path.Clean("/"+urlPath), "/")
}

// isHashedAsset reports whether name is one of Vite's content-hashed outputs,
// which never change under the same name and so can be cached for a year.
func isHashedAsset(name string) bool {
	return name == "assets" || strings.HasPrefix(name, "assets/")
}

// methodAllowed: the client is static, so only GET and HEAD make sense.
func methodAllowed(m string) bool {
	return m == http.MethodGet || m == http.MethodHead
}

// fallback serves the client for GET and HEAD requests that matched no route,
// outside the server's reserved paths; everything else keeps its error.
func (h *handler) fallback(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		if !errors.Is(err, echo.ErrNotFound) || c.Response().Committed {
			return err
		}
		req := c.Request()
		if isReserved(req.URL.Path) || !methodAllowed(req.Method) {
			return err
		}
		return h.serve(c)
	}
}

// notFound hands the request to the Matrix error handler (404 M_UNRECOGNIZED).
func notFound() error { return echo.ErrNotFound }

// readFile reads name from fsys, refusing directories.
func readFile(fsys fs.FS, name string) ([]byte, error) {
	st, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fs.ErrNotExist
	}
	return fs.ReadFile(fsys, name)
}
