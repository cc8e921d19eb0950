package media

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
)

// Remote thumbnails: a thumbnail of remote media is asked from its origin
// (federation content_repository.yaml, GET /_matrix/federation/v1/media/
// thumbnail/{mediaId}) and cached per requested size, method and animation,
// so a room full of remote photos costs a few kilobytes each instead of a
// download of every original. Only when the origin cannot thumbnail is the
// original fetched and thumbnailed here.

const (
	// maxRemoteThumbBytes bounds a remote thumbnail (it may be an animated
	// original, which the spec allows a server to return).
	maxRemoteThumbBytes = 16 << 20
	remoteThumbTimeout  = time.Minute
	// remoteMethodPrefix keeps remote thumbnails apart from the ones made
	// here in the cache: they are keyed by the requested size, the local
	// ones by the standard size the request was snapped to, and a shared
	// key would let one overwrite the file of the other.
	remoteMethodPrefix = "remote-"
)

// remoteThumbnail serves a remote thumbnail from the cache or the origin.
// done is false when the caller should thumbnail the original instead: it
// is cached already, or the origin could not produce a thumbnail.
func (r *Repo) remoteThumbnail(ctx context.Context, origin, mediaID string, req ThumbnailRequest, o OpenOptions) (*Content, bool, error) {
	if _, err := spec.ParseServerName(origin); err != nil {
		return nil, true, spec.InvalidParam("invalid server name %q", origin)
	}
	if !ValidMediaID(mediaID) {
		return nil, true, spec.InvalidParam("invalid media ID")
	}
	key := models.MediaThumbnail{Origin: origin, MediaID: mediaID, Width: req.Width, Height: req.Height,
		Method: remoteMethodPrefix + req.Method, Animated: req.Animated}
	row, err := r.opts.Store.GetThumbnail(ctx, key)
	if err == nil {
		return r.openRemoteThumb(row, o)
	}
	if !errors.Is(err, models.ErrNotFound) {
		return nil, true, err
	}
	if m, err := r.opts.Store.GetMedia(ctx, origin, mediaID); err == nil && m.UploadedAt != 0 {
		return nil, false, nil // the original is here: no round trip needed
	}
	if !o.AllowRemote || r.opts.Remote == nil {
		return nil, true, spec.NotFound("media not found")
	}
	if o.FrozenAfter > 0 {
		return nil, true, frozen() // anything cached now would be frozen
	}
	row, err = r.thumbFetches.do(thumbKey(key), func() (*models.MediaThumbnail, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), remoteThumbTimeout)
		defer cancel()
		return r.downloadRemoteThumb(ctx, key)
	})
	var merr *spec.Error
	switch {
	case err == nil:
		return r.openRemoteThumb(row, o)
	case errors.As(err, &merr) && merr.Code == spec.ErrNotFound:
		return nil, true, err // the origin does not have the media at all
	default:
		r.log.Info("remote thumbnail unavailable, using the original", "origin", origin, "err", err)
		return nil, false, nil
	}
}

func thumbKey(t models.MediaThumbnail) string {
	return fmt.Sprintf("%s/%s/%dx%d/%s/%t", t.Origin, t.MediaID, t.Width, t.Height, t.Method, t.Animated)
}

func remoteThumbSpec(t *models.MediaThumbnail) thumbSpec {
	return thumbSpec{Width: t.Width, Height: t.Height, Method: t.Method, Animated: t.Animated}
}

// openRemoteThumb opens a cached remote thumbnail. A row whose file is gone
// is treated as a miss by the caller's next request (the row is dropped).
func (r *Repo) openRemoteThumb(row *models.MediaThumbnail, o OpenOptions) (*Content, bool, error) {
	if o.FrozenAfter > 0 && row.CreatedAt >= o.FrozenAfter {
		return nil, true, frozen()
	}
	f, err := os.Open(r.files.thumbPath(row.Origin, row.MediaID, remoteThumbSpec(row)))
	if err != nil {
		r.log.Warn("remote thumbnail file missing", "origin", row.Origin, "media_id", row.MediaID, "err", err)
		if err := r.opts.Store.DeleteThumbnail(context.Background(), *row); err != nil {
			r.log.Warn("drop thumbnail row", "err", err)
		}
		return nil, false, nil
	}
	ct := row.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	return &Content{Origin: row.Origin, MediaID: row.MediaID, ContentType: ct, FileName: "thumbnail",
		Size: row.Size, ETag: `"rt-` + strconv.FormatInt(row.CreatedAt, 36) + "-" + strconv.FormatInt(row.Size, 36) + `"`,
		ModTime: time.UnixMilli(row.CreatedAt).UTC(), File: f}, true, nil
}

// downloadRemoteThumb fetches one thumbnail from the origin (multipart, or
// the bare image from the deprecated endpoint) and caches it.
func (r *Repo) downloadRemoteThumb(ctx context.Context, key models.MediaThumbnail) (*models.MediaThumbnail, error) {
	q := url.Values{"width": {strconv.Itoa(key.Width)}, "height": {strconv.Itoa(key.Height)},
		"method": {key.Method[len(remoteMethodPrefix):]}}
	if key.Animated {
		q.Set("animated", "true")
	}
	id := url.PathEscape(key.MediaID)
	resp, legacy, err := r.remoteGet(ctx, spec.ServerName(key.Origin),
		"/_matrix/federation/v1/media/thumbnail/"+id+"?"+q.Encode()+"&timeout_ms=20000",
		"/_matrix/media/v3/thumbnail/"+url.PathEscape(key.Origin)+"/"+id+"?"+q.Encode()+"&allow_remote=false&timeout_ms=20000")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	part, closeFn, err := r.contentPart(ctx, resp, legacy)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	if part.contentType == "" {
		return nil, spec.NewError(http.StatusBadGateway, spec.ErrUnknown, "remote thumbnail has no content type")
	}
	w, err := r.files.writeTemp(part.body, maxRemoteThumbBytes)
	if err != nil {
		return nil, remoteTooLarge(err)
	}
	row := key
	row.ContentType, row.Size, row.CreatedAt = part.contentType, w.size, r.now()
	if err := r.files.commit(w, r.files.thumbPath(key.Origin, key.MediaID, remoteThumbSpec(&row))); err != nil {
		return nil, err
	}
	if err := r.opts.Store.PutThumbnail(ctx, &row); err != nil {
		return nil, err
	}
	return &row, nil
}
