package media

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
)

// URL preview bounds (authed-content-repo.yaml /media/preview_url): a page
// is read up to maxPreviewHTML bytes within previewTimeout; its image up to
// maxPreviewImage bytes; answers are cached for previewTTL.
const (
	maxPreviewHTML  = 1 << 20
	maxPreviewImage = 10 << 20
	maxPreviewURL   = 2048
	previewTimeout  = 10 * time.Second
	previewTTL      = time.Hour
)

// PreviewURL returns the OpenGraph data of a URL, with og:image replaced by
// an mxc:// URI of a local copy.
func (r *Repo) PreviewURL(ctx context.Context, rawURL string) (map[string]any, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(rawURL) > maxPreviewURL || u.User != nil {
		return nil, spec.InvalidParam("url must be an absolute http(s) URL")
	}
	u.Fragment = ""
	key := u.String()
	now := r.now()
	if cached, err := r.opts.Store.GetURLPreview(ctx, key, now); err == nil {
		var og map[string]any
		if json.Unmarshal([]byte(cached.JSON), &og) == nil {
			return og, nil
		}
	} else if !errors.Is(err, models.ErrNotFound) {
		return nil, err
	}
	fctx, cancel := context.WithTimeout(ctx, previewTimeout)
	defer cancel()
	og, err := r.fetchPreview(fctx, u)
	if err != nil {
		return nil, err
	}
	body, _ := json.Marshal(og)
	row := &models.URLPreview{URL: key, JSON: string(body), FetchedAt: now, ExpiresAt: now + previewTTL.Milliseconds()}
	if err := r.opts.Store.PutURLPreview(ctx, row); err != nil {
		r.log.Warn("cache url preview", "err", err)
	}
	return og, nil
}

// fetchPreview GETs the page; an image is stored whole, HTML is parsed.
func (r *Repo) fetchPreview(ctx context.Context, u *url.URL) (map[string]any, error) {
	resp, err := r.get(ctx, u.String(), "text/html,application/xhtml+xml,image/*;q=0.8,*/*;q=0.5")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch {
	case strings.HasPrefix(ct, "image/"):
		og := map[string]any{}
		if err := r.previewImage(ctx, resp, og); err != nil {
			return nil, err
		}
		return og, nil
	case ct == "text/html" || ct == "application/xhtml+xml":
		page, err := io.ReadAll(io.LimitReader(resp.Body, maxPreviewHTML))
		if err != nil {
			return nil, spec.NewError(http.StatusBadGateway, spec.ErrUnknown, "could not read the page")
		}
		og := parseOpenGraph(bytes.NewReader(page), resp.Request.URL)
		r.attachImage(ctx, og)
		return og, nil
	}
	return map[string]any{}, nil // nothing to preview, which the spec allows ("may be empty")
}

// get fetches a URL through the outbound client and maps its failures.
func (r *Repo) get(ctx context.Context, rawURL, accept string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, spec.InvalidParam("url must be an absolute http(s) URL")
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", "Kabar URL preview (Matrix homeserver)")
	resp, err := r.outbound.Do(req)
	if errors.Is(err, ErrAddressRefused) {
		return nil, spec.Forbidden("previews of this address are not allowed")
	}
	if err != nil {
		return nil, spec.NewError(http.StatusBadGateway, spec.ErrUnknown, "could not fetch the URL")
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, spec.NewError(http.StatusBadGateway, spec.ErrUnknown, "the URL answered %d", resp.StatusCode)
	}
	return resp, nil
}

// attachImage replaces og:image with a local copy; a failure only drops the
// image from the preview.
func (r *Repo) attachImage(ctx context.Context, og map[string]any) {
	raw, _ := og["og:image"].(string)
	delete(og, "og:image")
	if raw == "" {
		return
	}
	resp, err := r.get(ctx, raw, "image/*")
	if err != nil {
		r.log.Debug("preview image fetch failed", "err", err)
		return
	}
	defer resp.Body.Close()
	if err := r.previewImage(ctx, resp, og); err != nil {
		r.log.Debug("preview image store failed", "err", err)
	}
}

// previewImage stores an image response as local media and describes it
// with og:image, og:image:type, matrix:image:size and, when readable,
// og:image:width/height.
func (r *Repo) previewImage(ctx context.Context, resp *http.Response, og map[string]any) error {
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if !strings.HasPrefix(ct, "image/") {
		return fmt.Errorf("preview image is %q", ct)
	}
	limit := int64(maxPreviewImage)
	if r.opts.MaxUploadBytes > 0 {
		limit = min(limit, r.opts.MaxUploadBytes)
	}
	mxc, c, err := r.store(ctx, ct, resp.Body, limit)
	if err != nil {
		return err
	}
	defer c.File.Close()
	og["og:image"] = mxc
	og["og:image:type"] = ct
	og["matrix:image:size"] = c.Size
	if _, cfg, _, err := probe(c.File, r.thumbs.maxPixels); err == nil && cfg.Width > 0 {
		og["og:image:width"] = cfg.Width
		og["og:image:height"] = cfg.Height
	}
	return nil
}

// store saves server-fetched bytes as local media and reopens them.
func (r *Repo) store(ctx context.Context, contentType string, body io.Reader, limit int64) (string, *Content, error) {
	mxc, err := r.upload(ctx, "", contentType, "", body, limit)
	if err != nil {
		return "", nil, err
	}
	mediaID := mxc[strings.LastIndexByte(mxc, '/')+1:]
	c, err := r.Open(ctx, string(r.opts.ServerName), mediaID, OpenOptions{})
	return mxc, c, err
}
