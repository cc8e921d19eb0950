// Package web serves Kabar's bundled web client at "/".
package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// placeholder is served until the web client is built.
const placeholder = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Kabar</title></head>
<body><h1>Kabar</h1><p>This Matrix homeserver is running. Sign in with any Matrix client
using this server's address. The bundled web client is coming.</p></body></html>`

// Register mounts the web client.
func Register(e *echo.Echo) {
	e.GET("/", func(c echo.Context) error { return c.HTML(http.StatusOK, placeholder) })
}
