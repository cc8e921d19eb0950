package receiver

import (
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/media"
)

// MediaSource is the content repository as other servers see it;
// *media.Repo satisfies it.
type MediaSource interface {
	Open(ctx context.Context, origin, mediaID string, o media.OpenOptions) (*media.Content, error)
	Thumbnail(ctx context.Context, origin, mediaID string, req media.ThumbnailRequest, o media.OpenOptions) (*media.Content, error)
}

// RegisterMedia mounts the federation content repository
// (server-server-api "Content Repository", content_repository.yaml): our
// own media only, never re-served remote media, answered as multipart/mixed.
func (r *Receiver) RegisterMedia(e *echo.Echo, m MediaSource) {
	g := r.routes(e, "/_matrix/federation/v1/media")
	local := string(r.opts.ServerName)
	g.GET("/download/:mediaId", func(c echo.Context) error {
		content, err := m.Open(c.Request().Context(), local, c.Param("mediaId"), media.OpenOptions{})
		if err != nil {
			return err
		}
		defer content.File.Close()
		return writeMultipart(c, content)
	})
	g.GET("/thumbnail/:mediaId", func(c echo.Context) error {
		q := c.QueryParams()
		req, err := media.ParseThumbnailRequest(q.Get("width"), q.Get("height"), q.Get("method"), q.Get("animated"))
		if err != nil {
			return err
		}
		content, err := m.Thumbnail(c.Request().Context(), local, c.Param("mediaId"), req, media.OpenOptions{})
		if err != nil {
			return err
		}
		defer content.File.Close()
		return writeMultipart(c, content)
	})
}

// writeMultipart writes the two parts the spec requires: JSON metadata
// (always {} today) and the bytes with their type and disposition.
func writeMultipart(c echo.Context, content *media.Content) error {
	mw := multipart.NewWriter(c.Response())
	c.Response().Header().Set("Content-Type", "multipart/mixed; boundary="+mw.Boundary())
	c.Response().WriteHeader(http.StatusOK)
	meta, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"application/json"}})
	if err != nil {
		return fmt.Errorf("write media metadata: %w", err)
	}
	io.WriteString(meta, "{}")
	h := textproto.MIMEHeader{"Content-Type": {content.ContentType}}
	if content.FileName != "" {
		h.Set("Content-Disposition", media.Disposition(content.ContentType, content.FileName))
	}
	part, err := mw.CreatePart(h)
	if err != nil {
		return fmt.Errorf("write media part: %w", err)
	}
	if _, err := io.Copy(part, content.File); err != nil {
		return fmt.Errorf("send media: %w", err)
	}
	return mw.Close()
}
