package media

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
)

const (
	defaultWait = 20 * time.Second // authed-content-repo.yaml timeout_ms default
	maxWait     = 60 * time.Second // "The content repository SHOULD impose a maximum"
	touchEvery  = time.Hour        // last_access_at resolution for retention
)

// OpenOptions tunes Open.
type OpenOptions struct {
	// AllowRemote lets Open fetch media of other servers (allow_remote).
	AllowRemote bool
	// Wait bounds the wait for a pending upload (timeout_ms); 0: the default.
	Wait time.Duration
	// FrozenAfter, when > 0, hides media cached or uploaded at or after this
	// time (ms): the legacy endpoints' freeze (content_repo.md, "Client
	// behaviour", the 1.12 freeze warning).
	FrozenAfter int64
}

// Content is an open media file; the caller closes File.
type Content struct {
	Origin      string
	MediaID     string
	ContentType string
	FileName    string
	Size        int64
	// ETag is the SHA-256 of the bytes: strong, and equal for equal content.
	ETag    string
	ModTime time.Time
	File    *os.File
}

// Open finds a media item, fetching remote media on a cache miss, and opens
// its file.
func (r *Repo) Open(ctx context.Context, origin, mediaID string, o OpenOptions) (*Content, error) {
	m, err := r.lookup(ctx, origin, mediaID, o)
	if err != nil {
		return nil, err
	}
	if o.FrozenAfter > 0 && m.CreatedAt >= o.FrozenAfter {
		return nil, frozen()
	}
	f, err := os.Open(r.files.contentPath(m.Origin, m.MediaID))
	if errors.Is(err, os.ErrNotExist) {
		r.log.Warn("media file missing", "origin", m.Origin, "media_id", m.MediaID)
		return nil, spec.NotFound("media not found")
	}
	if err != nil {
		return nil, fmt.Errorf("open media %s: %w", MXC(origin, mediaID), err)
	}
	r.touch(ctx, m)
	return contentOf(m, f), nil
}

func frozen() error {
	return spec.NotFound("media not found (this endpoint is frozen; use /_matrix/client/v1/media)")
}

func contentOf(m *models.Media, f *os.File) *Content {
	ct := m.ContentType
	if ct == "" {
		ct = "application/octet-stream" // content-repo.yaml downloadContentType
	}
	return &Content{Origin: m.Origin, MediaID: m.MediaID, ContentType: ct, FileName: m.FileName,
		Size: m.Size, ETag: `"` + m.SHA256 + `"`, ModTime: time.UnixMilli(m.UploadedAt).UTC(), File: f}
}

// lookup returns an uploaded media row: local, cached or freshly fetched.
func (r *Repo) lookup(ctx context.Context, origin, mediaID string, o OpenOptions) (*models.Media, error) {
	if _, err := spec.ParseServerName(origin); err != nil {
		return nil, spec.InvalidParam("invalid server name %q", origin)
	}
	if !ValidMediaID(mediaID) {
		return nil, spec.InvalidParam("invalid media ID")
	}
	m, err := r.opts.Store.GetMedia(ctx, origin, mediaID)
	if errors.Is(err, models.ErrNotFound) {
		if origin == string(r.opts.ServerName) || !o.AllowRemote || r.opts.Remote == nil {
			return nil, spec.NotFound("media not found")
		}
		if o.FrozenAfter > 0 {
			// Cached now, it would be frozen anyway: skip the download.
			return nil, frozen()
		}
		return r.fetchRemote(ctx, spec.ServerName(origin), mediaID)
	}
	if err != nil {
		return nil, err
	}
	if m.UploadedAt == 0 {
		return r.waitUpload(ctx, m, o.Wait)
	}
	return m, nil
}

// waitUpload parks a download of a created-but-empty URI until its upload
// arrives or the wait ends (504 M_NOT_YET_UPLOADED).
func (r *Repo) waitUpload(ctx context.Context, m *models.Media, wait time.Duration) (*models.Media, error) {
	if m.ExpiresAt <= r.now() {
		return nil, spec.NotFound("media not found")
	}
	if wait <= 0 {
		wait = defaultWait
	}
	wait = min(wait, maxWait)
	ch := r.waiters.wait(m.Origin + "/" + m.MediaID)
	// Re-read after registering: the upload may have finished in between.
	if again, err := r.opts.Store.GetMedia(ctx, m.Origin, m.MediaID); err == nil && again.UploadedAt != 0 {
		return again, nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ch:
		return r.opts.Store.GetMedia(ctx, m.Origin, m.MediaID)
	case <-t.C:
		return nil, spec.NewError(http.StatusGatewayTimeout, ErrNotYetUploaded, "content has not yet been uploaded")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// touch records access to remote media at most once per touchEvery, so the
// retention sweep knows what is still used without a write per download.
func (r *Repo) touch(ctx context.Context, m *models.Media) {
	if m.Origin == string(r.opts.ServerName) {
		return
	}
	now := r.now()
	if now-m.LastAccessAt < touchEvery.Milliseconds() {
		return
	}
	if err := r.opts.Store.TouchMedia(ctx, m.Origin, m.MediaID, now); err != nil {
		r.log.Warn("touch media", "err", err)
	}
}

// Delete removes a media item, its thumbnails and files (admin API).
func (r *Repo) Delete(ctx context.Context, origin, mediaID string) error {
	if !ValidMediaID(mediaID) {
		return spec.InvalidParam("invalid media ID")
	}
	if err := r.opts.Store.DeleteMedia(ctx, origin, mediaID); err != nil {
		if errors.Is(err, models.ErrNotFound) {
			return spec.NotFound("media not found")
		}
		return err
	}
	r.waiters.done(origin + "/" + mediaID)
	return r.files.remove(origin, mediaID)
}
