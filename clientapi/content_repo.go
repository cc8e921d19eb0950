package clientapi

import (
	"context"
	"io"
	"mime"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/media"
	"github.com/kabarchat/kabar/models/spec"
)

// Content repository, content-repo.yaml: uploads (/_matrix/media/v3/upload,
// /_matrix/media/v1/create) and the deprecated unauthenticated downloads,
// served or frozen as configured.

// MediaRepo is the content repository the handlers use; *media.Repo
// satisfies it.
type MediaRepo interface {
	MaxUploadBytes() int64
	// QuotaLeft is how many more bytes a user may upload; -1: unlimited.
	QuotaLeft(ctx context.Context, uploader string) (int64, error)
	Upload(ctx context.Context, uploader, contentType, fileName string, body io.Reader) (string, error)
	Create(ctx context.Context, uploader string) (string, int64, error)
	UploadTo(ctx context.Context, uploader, origin, mediaID, contentType, fileName string, body io.Reader) error
	Open(ctx context.Context, origin, mediaID string, o media.OpenOptions) (*media.Content, error)
	Thumbnail(ctx context.Context, origin, mediaID string, req media.ThumbnailRequest, o media.OpenOptions) (*media.Content, error)
	PreviewURL(ctx context.Context, rawURL string) (map[string]any, error)
	Delete(ctx context.Context, origin, mediaID string) error
}

// MediaOptions configures the content repository endpoints.
type MediaOptions struct {
	Repo MediaRepo
	// LegacyFrozenAfter freezes the deprecated /_matrix/media/v3 download and
	// thumbnail endpoints for media stored at or after this time (ms since
	// the epoch); 0 serves everything there.
	LegacyFrozenAfter int64
	// URLPreviews enables preview_url.
	URLPreviews bool
	// UploadLimiter rate-limits uploads and /create per user; nil means
	// unlimited.
	UploadLimiter echoserver.Limiter
}

// MediaUploadPrefix is where upload bodies arrive; echoserver leaves their size to
// these handlers (media has its own limit).
const MediaUploadPrefix = "/_matrix/media/v3/upload"

// registerMedia mounts the content repository routes.
func (a *API) registerMedia(e *echo.Echo) {
	if a.opts.Media.Repo == nil {
		return
	}
	auth := a.requireAuth
	// content-repo.yaml: 429 on all three.
	limit := echoserver.RateLimit(a.opts.Media.UploadLimiter, func(c echo.Context) string { return session(c).UserID })
	e.POST("/_matrix/media/v3/upload", a.uploadMedia, auth, limit)
	e.PUT("/_matrix/media/v3/upload/:serverName/:mediaId", a.uploadMediaTo, unescaped(auth, limit)...)
	e.POST("/_matrix/media/v1/create", a.createMedia, auth, limit)
	legacy := newRouteGroup(e, "/_matrix/media/v3")
	legacy.GET("/config", a.mediaConfig, auth)
	if a.opts.Media.URLPreviews {
		legacy.GET("/preview_url", a.previewURL, auth)
	}
	legacyOpen := func(c echo.Context) media.OpenOptions {
		return media.OpenOptions{AllowRemote: c.QueryParam("allow_remote") != "false",
			Wait: waitParam(c), FrozenAfter: a.opts.Media.LegacyFrozenAfter}
	}
	legacy.GET("/download/:serverName/:mediaId", a.downloadMedia(legacyOpen))
	legacy.GET("/download/:serverName/:mediaId/:fileName", a.downloadMedia(legacyOpen))
	legacy.GET("/thumbnail/:serverName/:mediaId", a.thumbnailMedia(legacyOpen))
	a.registerAuthedMedia(e)
}

// uploadMedia is POST /_matrix/media/v3/upload. The body is streamed to
// disk; a declared length over the limit is refused before reading.
func (a *API) uploadMedia(c echo.Context) error {
	ct, name, err := a.uploadParams(c)
	if err != nil {
		return err
	}
	mxc, err := a.opts.Media.Repo.Upload(c.Request().Context(), session(c).UserID, ct, name, c.Request().Body)
	if err != nil {
		return err
	}
	return ok(c, map[string]string{"content_uri": mxc})
}

// uploadMediaTo is PUT /_matrix/media/v3/upload/{serverName}/{mediaId}.
func (a *API) uploadMediaTo(c echo.Context) error {
	origin, mediaID, err := mediaPath(c)
	if err != nil {
		return err
	}
	ct, name, err := a.uploadParams(c)
	if err != nil {
		return err
	}
	err = a.opts.Media.Repo.UploadTo(c.Request().Context(), session(c).UserID, origin, mediaID, ct, name, c.Request().Body)
	if err != nil {
		return err
	}
	return ok(c, struct{}{})
}

// createMedia is POST /_matrix/media/v1/create.
func (a *API) createMedia(c echo.Context) error {
	mxc, expires, err := a.opts.Media.Repo.Create(c.Request().Context(), session(c).UserID)
	if err != nil {
		return err
	}
	return ok(c, map[string]any{"content_uri": mxc, "unused_expires_at": expires})
}

// uploadParams reads the content type (default application/octet-stream,
// content-repo.yaml) and file name, and refuses a declared oversize body
// (413) or one over the user's quota (403) before reading it.
func (a *API) uploadParams(c echo.Context) (string, string, error) {
	req := c.Request()
	if max := a.opts.Media.Repo.MaxUploadBytes(); max > 0 && req.ContentLength > max {
		return "", "", spec.TooLarge("content is larger than %d bytes", max)
	}
	left, err := a.opts.Media.Repo.QuotaLeft(req.Context(), session(c).UserID)
	if err != nil {
		return "", "", err
	}
	if left >= 0 && (req.ContentLength > left || left == 0) {
		return "", "", spec.Forbidden("this upload would exceed your media quota (%d bytes left)", left)
	}
	ct := strings.TrimSpace(req.Header.Get("Content-Type"))
	if ct == "" {
		ct = "application/octet-stream"
	} else if _, _, err := mime.ParseMediaType(ct); err != nil || len(ct) > 255 {
		return "", "", spec.InvalidParam("invalid Content-Type")
	}
	name := c.QueryParam("filename")
	if len(name) > 1024 || strings.ContainsAny(name, "\x00/\\") {
		return "", "", spec.InvalidParam("invalid filename")
	}
	return ct, name, nil
}

// mediaConfig is GET /media/config.
func (a *API) mediaConfig(c echo.Context) error {
	body := map[string]any{}
	if max := a.opts.Media.Repo.MaxUploadBytes(); max > 0 {
		body["m.upload.size"] = max
	}
	return ok(c, body)
}

// mediaPath parses {serverName} and {mediaId} (content_repo.md "Security
// considerations": valid server names, media IDs of [A-Za-z0-9_-] only).
func mediaPath(c echo.Context) (string, string, error) {
	rawServer := c.Param("serverName")
	mediaID := c.Param("mediaId")
	server, err := spec.ParseServerName(rawServer)
	if err != nil {
		return "", "", spec.InvalidParam("invalid server name")
	}
	if !media.ValidMediaID(mediaID) {
		return "", "", spec.InvalidParam("invalid media ID")
	}
	return string(server), mediaID, nil
}

// waitParam reads timeout_ms; invalid values mean the default.
func waitParam(c echo.Context) time.Duration {
	ms, err := strconv.ParseInt(c.QueryParam("timeout_ms"), 10, 64)
	if err != nil || ms <= 0 {
		return 0
	}
	return time.Duration(min(ms, 120_000)) * time.Millisecond
}
