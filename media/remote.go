package media

import (
	"bytes"
	"context"
	"encoding/json"
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

// RemoteFetcher performs federation requests; *fedclient.Client satisfies
// it.
type RemoteFetcher interface {
	// GetStream sends a signed GET for path (with query) to destination's
	// federation API. The caller closes the body.
	GetStream(ctx context.Context, destination spec.ServerName, path string) (*http.Response, error)
	// GetStreamUnsigned is GetStream without authentication, for the
	// deprecated /_matrix/media/v3 endpoints of older servers.
	GetStreamUnsigned(ctx context.Context, destination spec.ServerName, path string) (*http.Response, error)
}

const (
	// remoteFetchTimeout bounds a whole remote download. The federation
	// client already fails a body silent for 30 s; this only stops a peer
	// that trickles bytes forever, so it allows 100 MB at ~200 kB/s.
	remoteFetchTimeout = 10 * time.Minute
	maxMetadataPart    = 64 << 10
	maxErrorBody       = 64 << 10
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
// Location to fetch them from); servers without it get the deprecated
// client-server download.
func (r *Repo) downloadRemote(ctx context.Context, origin spec.ServerName, mediaID string) (*models.Media, error) {
	id := url.PathEscape(mediaID)
	resp, legacy, err := r.remoteGet(ctx, origin,
		"/_matrix/federation/v1/media/download/"+id+"?timeout_ms=20000",
		"/_matrix/media/v3/download/"+url.PathEscape(string(origin))+"/"+id+"?allow_remote=false&timeout_ms=20000")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	part, closeFn, err := r.contentPart(ctx, resp, legacy)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	w, err := r.files.writeTemp(part.body, r.opts.MaxUploadBytes)
	if err != nil {
		return nil, remoteTooLarge(err)
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

// remoteTooLarge turns 413 into 502: content too large on another server is
// a gateway failure for our client (content_repo.md).
func remoteTooLarge(err error) error {
	if merr, ok := err.(*spec.Error); ok && merr.Code == spec.ErrTooLarge {
		merr.Status = http.StatusBadGateway
	}
	return err
}

// remoteGet asks the federation endpoint fedPath and, if the remote does
// not know it, the deprecated legacyPath, unauthenticated
// (server-server-api "Content Repository": fall back on 404 M_UNRECOGNIZED,
// with allow_remote=false). It returns a 200 response and whether it came
// from the legacy endpoint; any other answer becomes a Matrix error.
func (r *Repo) remoteGet(ctx context.Context, origin spec.ServerName, fedPath, legacyPath string) (*http.Response, bool, error) {
	resp, err := r.opts.Remote.GetStream(ctx, origin, fedPath)
	if err != nil {
		r.log.Info("remote media fetch failed", "origin", origin, "err", err)
		return nil, false, spec.NewError(http.StatusBadGateway, spec.ErrUnknown, "could not fetch remote media")
	}
	legacy := false
	if unrecognized(resp) {
		resp.Body.Close()
		legacy = true
		if resp, err = r.opts.Remote.GetStreamUnsigned(ctx, origin, legacyPath); err != nil {
			r.log.Info("legacy remote media fetch failed", "origin", origin, "err", err)
			return nil, false, spec.NewError(http.StatusBadGateway, spec.ErrUnknown, "could not fetch remote media")
		}
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		return resp, legacy, nil
	case resp.StatusCode == http.StatusNotFound:
		resp.Body.Close()
		return nil, false, spec.NotFound("media not found")
	default:
		resp.Body.Close()
		return nil, false, spec.NewError(http.StatusBadGateway, spec.ErrUnknown, "remote server answered %d", resp.StatusCode)
	}
}

// unrecognized reports a server that does not implement the endpoint: 404,
// 405 or 400 with M_UNRECOGNIZED (server-server-api "Unsupported
// endpoints"; some servers used 400), or a 404 that is not a Matrix error at
// all (a router in front of an old server). The body it reads is put back.
func unrecognized(resp *http.Response) bool {
	switch resp.StatusCode {
	case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusBadRequest:
	default:
		return false
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	var e struct {
		Errcode string `json:"errcode"`
	}
	json.Unmarshal(data, &e)
	return e.Errcode == "M_UNRECOGNIZED" || (resp.StatusCode == http.StatusNotFound && e.Errcode == "")
}

// mediaPart is the content part of a federation media response.
type mediaPart struct {
	body        io.Reader
	contentType string
	fileName    string
}

// contentPart returns the bytes of a 200 answer: the whole body of a legacy
// answer, the second part of a federation one.
func (r *Repo) contentPart(ctx context.Context, resp *http.Response, legacy bool) (*mediaPart, func(), error) {
	if legacy {
		return &mediaPart{body: resp.Body, contentType: resp.Header.Get("Content-Type"),
			fileName: dispositionFileName(resp.Header.Get("Content-Disposition"))}, func() {}, nil
	}
	return r.secondPart(ctx, resp)
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
type flights[T any] struct {
	mu sync.Mutex
	m  map[string]*flight[T]
}

type flight[T any] struct {
	done chan struct{}
	v    T
	err  error
}

func newFlights[T any]() *flights[T] { return &flights[T]{m: map[string]*flight[T]{}} }

func (f *flights[T]) do(key string, fn func() (T, error)) (T, error) {
	f.mu.Lock()
	if fl, ok := f.m[key]; ok {
		f.mu.Unlock()
		<-fl.done
		return fl.v, fl.err
	}
	fl := &flight[T]{done: make(chan struct{})}
	f.m[key] = fl
	f.mu.Unlock()
	fl.v, fl.err = fn()
	f.mu.Lock()
	delete(f.m, key)
	f.mu.Unlock()
	close(fl.done)
	return fl.v, fl.err
}
