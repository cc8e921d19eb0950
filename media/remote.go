package media

import (
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
)

// RemoteFetcher performs signed federation requests; the federation client
// satisfies it through a small adapter in server.
type RemoteFetcher interface {
	// GetStream sends a signed GET for path (with query) to destination's
	// federation API. The caller closes the body.
	GetStream(ctx context.Context, destination spec.ServerName, path string) (*http.Response, error)
}

const (
	remoteFetchTimeout = 2 * time.Minute
	maxMetadataPart    = 64 << 10
)

// fetchRemote downloads and caches a remote media item. Concurrent requests
// for the same item share one download.
func (r *Repo) fetchRemote(ctx context.Context, origin spec.ServerName, mediaID string) (*models.Media, error) {
	return r.fetches.do(string(origin)+"/"+mediaID, func() (*models.Media, error) {
		// Detached from the first caller: the others share the result.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), remoteFetchTimeout)
		defer cancel()
		return r.downloadRemote(ctx, origin, mediaID)
	})
}

// downloadRemote implements the requesting side of federation
// content_repository.yaml: GET /_matrix/federation/v1/media/download/{mediaId}
// answered with multipart/mixed (a JSON metadata part, then the bytes or a
// Location to fetch them from).
func (r *Repo) downloadRemote(ctx context.Context, origin spec.ServerName, mediaID string) (*models.Media, error) {
	resp, err := r.opts.Remote.GetStream(ctx, origin,
		"/_matrix/federation/v1/media/download/"+url.PathEscape(mediaID)+"?timeout_ms=20000")
	if err != nil {
		r.log.Info("remote media fetch failed", "origin", origin, "err", err)
		return nil, spec.NewError(http.StatusBadGateway, spec.ErrUnknown, "could not fetch remote media")
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, spec.NotFound("media not found")
	case resp.StatusCode != http.StatusOK:
		return nil, spec.NewError(http.StatusBadGateway, spec.ErrUnknown, "remote server answered %d", resp.StatusCode)
	}
	part, closeFn, err := r.secondPart(ctx, resp)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	w, err := r.files.writeTemp(part.body, r.opts.MaxUploadBytes)
	if err != nil {
		if merr, ok := err.(*spec.Error); ok && merr.Code == spec.ErrTooLarge {
			merr.Status = http.StatusBadGateway // content_repo.md: remote too large is 502
		}
		return nil, err
	}
	now := r.now()
	m := &models.Media{Origin: string(origin), MediaID: mediaID, ContentType: part.contentType, FileName: part.fileName,
		Size: w.size, SHA256: w.sha256, CreatedAt: now, UploadedAt: now, LastAccessAt: now}
	if err := r.files.commit(w, r.files.contentPath(m.Origin, mediaID)); err != nil {
		return nil, err
	}
	if err := r.opts.Store.PutRemoteMedia(ctx, m); err != nil {
		return nil, err
	}
	return m, nil
}

// mediaPart is the content part of a federation media response.
type mediaPart struct {
	body        io.Reader
	contentType string
	fileName    string
}

// secondPart reads the multipart response up to the content: the metadata
// part is read bounded and ignored (always {} today), the second part is
// returned for streaming, or followed if it is a Location.
func (r *Repo) secondPart(ctx context.Context, resp *http.Response) (*mediaPart, func(), error) {
	bad := func(why string) error {
		return spec.NewError(http.StatusBadGateway, spec.ErrUnknown, "remote server sent a malformed media response: %s", why)
	}
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" || params["boundary"] == "" {
		return nil, nil, bad("not multipart/mixed")
	}
	mr := multipart.NewReader(resp.Body, params["boundary"])
	meta, err := mr.NextPart()
	if err != nil {
		return nil, nil, bad("no metadata part")
	}
	// Read to its end, bounded: moving to the next part would otherwise read
	// an endless metadata part forever.
	if n, err := io.Copy(io.Discard, io.LimitReader(meta, maxMetadataPart+1)); err != nil || n > maxMetadataPart {
		return nil, nil, bad("metadata part unreadable or too large")
	}
	content, err := mr.NextPart()
	if err != nil {
		return nil, nil, bad("no content part")
	}
	if loc := content.Header.Get("Location"); loc != "" {
		return r.followLocation(ctx, loc)
	}
	p := &mediaPart{body: content, contentType: content.Header.Get("Content-Type"),
		fileName: dispositionFileName(content.Header.Get("Content-Disposition"))}
	return p, func() {}, nil
}

// followLocation fetches the bytes a remote server redirected to, through
// the outbound client that refuses private addresses.
func (r *Repo) followLocation(ctx context.Context, loc string) (*mediaPart, func(), error) {
	u, err := url.Parse(loc)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, nil, spec.NewError(http.StatusBadGateway, spec.ErrUnknown, "remote media location is not an http(s) URL")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("build media location request: %w", err)
	}
	resp, err := r.outbound.Do(req)
	if err != nil {
		return nil, nil, spec.NewError(http.StatusBadGateway, spec.ErrUnknown, "could not fetch remote media location")
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, nil, spec.NewError(http.StatusBadGateway, spec.ErrUnknown, "remote media location answered %d", resp.StatusCode)
	}
	p := &mediaPart{body: resp.Body, contentType: resp.Header.Get("Content-Type"),
		fileName: dispositionFileName(resp.Header.Get("Content-Disposition"))}
	return p, func() { resp.Body.Close() }, nil
}

func dispositionFileName(h string) string {
	if h == "" {
		return ""
	}
	_, params, err := mime.ParseMediaType(h)
	if err != nil {
		return ""
	}
	return params["filename"]
}

// flights collapses concurrent fetches of one key into one.
type flights struct {
	mu sync.Mutex
	m  map[string]*flight
}

type flight struct {
	done chan struct{}
	m    *models.Media
	err  error
}

func newFlights() *flights { return &flights{m: map[string]*flight{}} }

func (f *flights) do(key string, fn func() (*models.Media, error)) (*models.Media, error) {
	f.mu.Lock()
	if fl, ok := f.m[key]; ok {
		f.mu.Unlock()
		<-fl.done
		return fl.m, fl.err
	}
	fl := &flight{done: make(chan struct{})}
	f.m[key] = fl
	f.mu.Unlock()
	fl.m, fl.err = fn()
	f.mu.Lock()
	delete(f.m, key)
	f.mu.Unlock()
	close(fl.done)
	return fl.m, fl.err
}
