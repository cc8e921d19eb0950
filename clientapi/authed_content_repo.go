package clientapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/media"
	"github.com/kabarchat/kabar/models/spec"
)

// Authenticated content repository, authed-content-repo.yaml
// (/_matrix/client/v1/media/*), and the Synapse-compatible admin deletion.

// mediaCSP is the policy on every media response (content_repo.md: the
// recommended policy, plus media-src 'self' so audio and video still play
// inside the sandbox).
const mediaCSP = "sandbox; default-src 'none'; script-src 'none'; plugin-types application/pdf; " +
	"style-src 'unsafe-inline'; media-src 'self'; object-src 'self';"

func (a *API) registerAuthedMedia(e *echo.Echo) {
	auth := a.requireAuth
	authedOpen := func(c echo.Context) media.OpenOptions {
		return media.OpenOptions{AllowRemote: true, Wait: waitParam(c)}
	}
	// Auth is per route, not group middleware: Echo answers a group with
	// middleware through a catch-all route, which turns a wrong method into
	// 404 (or 401) instead of 405 M_UNRECOGNIZED.
	v1 := newRouteGroup(e, "/_matrix/client/v1/media")
	v1.GET("/config", a.mediaConfig, auth)
	if a.opts.Media.URLPreviews {
		v1.GET("/preview_url", a.previewURL, auth)
	}
	v1.GET("/download/:serverName/:mediaId", a.downloadMedia(authedOpen), auth)
	v1.GET("/download/:serverName/:mediaId/:fileName", a.downloadMedia(authedOpen), auth)
	v1.GET("/thumbnail/:serverName/:mediaId", a.thumbnailMedia(authedOpen), auth)
	e.DELETE("/_synapse/admin/v1/media/:serverName/:mediaId", a.adminDeleteMedia, unescaped(auth)...)
}

// downloadMedia serves a media file; {fileName}, when present, replaces the
// stored name in Content-Disposition.
func (a *API) downloadMedia(open func(echo.Context) media.OpenOptions) echo.HandlerFunc {
	return func(c echo.Context) error {
		origin, mediaID, err := mediaPath(c)
		if err != nil {
			return err
		}
		content, err := a.opts.Media.Repo.Open(c.Request().Context(), origin, mediaID, open(c))
		if err != nil {
			return err
		}
		defer content.File.Close()
		name := content.FileName
		if n := c.Param("fileName"); n != "" {
			name = n
		}
		serveMedia(c, content, name)
		return nil
	}
}

// thumbnailMedia serves a thumbnail (client-server-api "Thumbnails").
func (a *API) thumbnailMedia(open func(echo.Context) media.OpenOptions) echo.HandlerFunc {
	return func(c echo.Context) error {
		origin, mediaID, err := mediaPath(c)
		if err != nil {
			return err
		}
		req, err := media.ParseThumbnailRequest(c.QueryParam("width"), c.QueryParam("height"),
			c.QueryParam("method"), c.QueryParam("animated"))
		if err != nil {
			return err
		}
		content, err := a.opts.Media.Repo.Thumbnail(c.Request().Context(), origin, mediaID, req, open(c))
		if err != nil {
			return err
		}
		defer content.File.Close()
		serveMedia(c, content, content.FileName)
		return nil
	}
}

// serveMedia writes a media file with the safety headers; http.ServeContent
// answers Range, If-None-Match and If-Modified-Since.
func serveMedia(c echo.Context, content *media.Content, name string) {
	h := c.Response().Header()
	h.Set("Content-Type", content.ContentType)
	h.Set("Content-Disposition", media.Disposition(content.ContentType, name))
	h.Set("Content-Security-Policy", mediaCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	// Media never changes under its ID; authenticated responses stay private.
	h.Set("Cache-Control", "private, max-age=31536000, immutable")
	h.Set("ETag", content.ETag)
	http.ServeContent(c.Response(), c.Request(), "", content.ModTime, content.File)
}

// previewURL is GET /media/preview_url.
func (a *API) previewURL(c echo.Context) error {
	raw := c.QueryParam("url")
	if raw == "" {
		return spec.MissingParam("url is required")
	}
	og, err := a.opts.Media.Repo.PreviewURL(c.Request().Context(), raw)
	if err != nil {
		return err
	}
	return ok(c, og)
}

// adminDeleteMedia is DELETE /_synapse/admin/v1/media/{serverName}/{mediaId}.
// NOTSPEC: Synapse's admin API, for operators' existing tooling.
func (a *API) adminDeleteMedia(c echo.Context) error {
	if !session(c).IsAdmin {
		return spec.Forbidden("you are not a server admin")
	}
	origin, mediaID, err := mediaPath(c)
	if err != nil {
		return err
	}
	if err := a.opts.Media.Repo.Delete(c.Request().Context(), origin, mediaID); err != nil {
		return err
	}
	return ok(c, map[string]any{"deleted_media": []string{mediaID}, "total": 1})
}
