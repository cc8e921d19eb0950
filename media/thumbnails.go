package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"time"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
)

// maxAnimatedBytes bounds an animated original served as its own animated
// thumbnail (the spec allows returning the original content).
const maxAnimatedBytes = 4 << 20

// maxThumbSide bounds the requested width and height.
const maxThumbSide = 10000

// ThumbnailRequest is a parsed thumbnail query.
type ThumbnailRequest struct {
	Width, Height int
	Method        string // "crop" or "scale"
	Animated      bool
}

// thumbnailer limits how many images are decoded at once: decoding is
// CPU- and memory-heavy, and the pixel limit bounds one decode, not many.
type thumbnailer struct {
	maxPixels int64
	slots     chan struct{}
}

func newThumbnailer(maxPixels int64) *thumbnailer {
	return &thumbnailer{maxPixels: maxPixels, slots: make(chan struct{}, max(1, runtime.NumCPU()))}
}

// ParseThumbnailRequest validates the query parameters
// (authed-content-repo.yaml: width and height required, method crop|scale).
func ParseThumbnailRequest(width, height, method, animated string) (ThumbnailRequest, error) {
	var req ThumbnailRequest
	if width == "" || height == "" {
		return req, spec.MissingParam("width and height are required")
	}
	var err1, err2 error
	req.Width, err1 = atoiStrict(width)
	req.Height, err2 = atoiStrict(height)
	if err1 != nil || err2 != nil || req.Width < 1 || req.Height < 1 || req.Width > maxThumbSide || req.Height > maxThumbSide {
		return req, spec.InvalidParam("width and height must be integers between 1 and %d", maxThumbSide)
	}
	switch method {
	case "", "scale":
		req.Method = "scale"
	case "crop":
		req.Method = "crop"
	default:
		return req, spec.InvalidParam("method must be crop or scale")
	}
	switch animated {
	case "", "false":
	case "true":
		req.Animated = true
	default:
		return req, spec.InvalidParam("animated must be true or false")
	}
	return req, nil
}

func atoiStrict(s string) (int, error) {
	if len(s) == 0 || len(s) > 6 {
		return 0, errors.New("bad number")
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("bad number")
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, nil
}

// Thumbnail returns a thumbnail of a media item, generating and caching it
// on first use (client-server-api "Thumbnails").
func (r *Repo) Thumbnail(ctx context.Context, origin, mediaID string, req ThumbnailRequest, o OpenOptions) (*Content, error) {
	if origin != string(r.opts.ServerName) {
		if c, done, err := r.remoteThumbnail(ctx, origin, mediaID, req, o); done {
			return c, err
		}
	}
	orig, err := r.Open(ctx, origin, mediaID, o)
	if err != nil {
		return nil, err
	}
	keep := false
	defer func() {
		if !keep {
			orig.File.Close()
		}
	}()
	format, cfg, _, err := probe(orig.File, r.thumbs.maxPixels)
	if err != nil {
		var merr *spec.Error
		if errors.As(err, &merr) && merr.Code == spec.ErrTooLarge && origin != string(r.opts.ServerName) {
			merr.Status = http.StatusBadGateway // remote content too large: 502 (content_repo.md)
		}
		return nil, err
	}
	animated := format == formatGIF || format == formatAnimWebP
	if req.Animated && animated && orig.Size <= maxAnimatedBytes {
		keep = true
		_, err := orig.File.Seek(0, io.SeekStart)
		return orig, err
	}
	target, fits := chooseSize(req.Width, req.Height, req.Method)
	small := cfg.Width <= req.Width && cfg.Height <= req.Height
	if (!fits || small) && (format == formatJPEG || format == formatPNG) {
		// Nothing to shrink: the original is what the spec asks for.
		keep = true
		_, err := orig.File.Seek(0, io.SeekStart)
		return orig, err
	}
	if !fits {
		target = thumbSpec{Width: min(req.Width, cfg.Width), Height: min(req.Height, cfg.Height), Method: "scale"}
	}
	c, err := r.cachedThumbnail(ctx, orig, format, target)
	if err != nil && format == formatAnimWebP {
		// A first frame this decoder cannot read (an unusual encoding):
		// the original is a valid answer when small enough to send.
		if orig.Size <= maxAnimatedBytes {
			keep = true
			_, err := orig.File.Seek(0, io.SeekStart)
			return orig, err
		}
		return nil, spec.NewError(http.StatusBadRequest, spec.ErrUnknown,
			"cannot thumbnail this animated WebP: its first frame could not be decoded and the file is too large to serve whole")
	}
	return c, err
}

// cachedThumbnail serves a thumbnail from the cache or generates it.
func (r *Repo) cachedThumbnail(ctx context.Context, orig *Content, format string, t thumbSpec) (*Content, error) {
	key := models.MediaThumbnail{Origin: orig.Origin, MediaID: orig.MediaID, Width: t.Width, Height: t.Height, Method: t.Method}
	path := r.files.thumbPath(orig.Origin, orig.MediaID, t)
	if row, err := r.opts.Store.GetThumbnail(ctx, key); err == nil {
		if f, err := os.Open(path); err == nil {
			return thumbContent(orig, row, f), nil
		}
	} else if !errors.Is(err, models.ErrNotFound) {
		return nil, err
	}
	select {
	case r.thumbs.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	row, err := r.generate(orig, format, t, path)
	<-r.thumbs.slots
	if err != nil {
		return nil, err
	}
	if err := r.opts.Store.PutThumbnail(ctx, row); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open thumbnail: %w", err)
	}
	return thumbContent(orig, row, f), nil
}

// generate decodes the original, resizes and writes the thumbnail file.
func (r *Repo) generate(orig *Content, format string, t thumbSpec, path string) (*models.MediaThumbnail, error) {
	if _, err := orig.File.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("rewind image: %w", err)
	}
	img, err := decode(format, orig.File)
	if err != nil {
		return nil, cannotThumbnail()
	}
	var buf bytes.Buffer
	ct, err := encode(&buf, resize(img, t), format)
	if err != nil {
		return nil, fmt.Errorf("encode thumbnail: %w", err)
	}
	w, err := r.files.writeTemp(&buf, 0)
	if err != nil {
		return nil, err
	}
	if err := r.files.commit(w, path); err != nil {
		return nil, err
	}
	return &models.MediaThumbnail{Origin: orig.Origin, MediaID: orig.MediaID, Width: t.Width, Height: t.Height,
		Method: t.Method, ContentType: ct, Size: w.size, CreatedAt: r.now()}, nil
}

func thumbContent(orig *Content, row *models.MediaThumbnail, f *os.File) *Content {
	name := "thumbnail.png"
	if row.ContentType == "image/jpeg" {
		name = "thumbnail.jpg"
	}
	etag := fmt.Sprintf(`"%s-%dx%d-%s"`, trimQuotes(orig.ETag), row.Width, row.Height, row.Method)
	return &Content{Origin: orig.Origin, MediaID: orig.MediaID, ContentType: row.ContentType, FileName: name,
		Size: row.Size, ETag: etag, ModTime: time.UnixMilli(row.CreatedAt).UTC(), File: f}
}

func trimQuotes(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}
