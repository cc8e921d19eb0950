// Package media implements Kabar's content repository (client-server-api
// "Content repository"): media stored on disk and described in the database,
// thumbnails generated on demand, remote media fetched over federation and
// cached, and URL previews fetched through a dialer that refuses private
// addresses.
package media

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
)

// Matrix error codes of the content repository that models/spec lacks.
const (
	ErrNotYetUploaded    spec.Errcode = "M_NOT_YET_UPLOADED"
	ErrCannotOverwrite   spec.Errcode = "M_CANNOT_OVERWRITE_MEDIA"
	defaultPendingExpiry              = 24 * time.Hour // content-repo.yaml: recommended 24 hours
	defaultMaxPending                 = 10
	defaultMaxPixels                  = 40_000_000
)

// Store is the metadata storage the repository needs; *store.Store
// satisfies it.
type Store interface {
	CreateMedia(ctx context.Context, m *models.Media) error
	PutRemoteMedia(ctx context.Context, m *models.Media) error
	GetMedia(ctx context.Context, origin, mediaID string) (*models.Media, error)
	CompleteUpload(ctx context.Context, m *models.Media, now int64) error
	CountPendingUploads(ctx context.Context, uploader string, now int64) (int64, error)
	UploadedBytes(ctx context.Context, uploader string) (int64, error)
	TouchMedia(ctx context.Context, origin, mediaID string, now int64) error
	DeleteMedia(ctx context.Context, origin, mediaID string) error
	ExpiredMedia(ctx context.Context, local string, remoteBefore, now int64, limit int) ([]models.Media, error)
	GetThumbnail(ctx context.Context, t models.MediaThumbnail) (*models.MediaThumbnail, error)
	PutThumbnail(ctx context.Context, t *models.MediaThumbnail) error
	DeleteThumbnail(ctx context.Context, t models.MediaThumbnail) error
	ExpiredRemoteThumbnails(ctx context.Context, local string, before int64, limit int) ([]models.MediaThumbnail, error)
	GetURLPreview(ctx context.Context, url string, now int64) (*models.URLPreview, error)
	PutURLPreview(ctx context.Context, p *models.URLPreview) error
	DeleteExpiredURLPreviews(ctx context.Context, now int64) error
}

// Options configures New.
type Options struct {
	ServerName spec.ServerName
	Store      Store
	// Root is the directory holding media files.
	Root string
	// MaxUploadBytes bounds uploads and remote downloads.
	MaxUploadBytes int64
	// MaxThumbnailPixels refuses to decode larger images (decompression bombs).
	MaxThumbnailPixels int64
	// RemoteRetention drops cached remote media not accessed for this long;
	// 0 keeps it forever.
	RemoteRetention time.Duration
	// PendingExpiry is how long a created mxc:// URI waits for its upload.
	PendingExpiry time.Duration
	// MaxPendingUploads per user (POST /create); over it: 429.
	MaxPendingUploads int
	// MaxBytesPerUser is each local user's upload quota; 0: unlimited.
	MaxBytesPerUser int64
	// Remote fetches media from other servers; nil: remote media is not
	// available (404 M_NOT_FOUND).
	Remote RemoteFetcher
	// OutboundAllow lists private networks that URL previews and remote
	// media redirects may reach anyway (tests, private deployments).
	OutboundAllow []netip.Prefix
	Logger        *slog.Logger
	Now           func() time.Time
}

// Repo is the content repository.
type Repo struct {
	opts    Options
	log     *slog.Logger
	files   *files
	waiters *waiters
	thumbs  *thumbnailer
	fetches *flights[*models.Media]
	// thumbFetches shares remote thumbnail downloads.
	thumbFetches *flights[*models.MediaThumbnail]
	// outbound fetches URL previews and remote media redirects; its dialer
	// refuses private addresses.
	outbound *http.Client
}

// New builds a Repo and creates its directories.
func New(opts Options) (*Repo, error) {
	if opts.Store == nil || opts.Root == "" || opts.ServerName == "" {
		return nil, errors.New("media: Store, Root and ServerName are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.PendingExpiry <= 0 {
		opts.PendingExpiry = defaultPendingExpiry
	}
	if opts.MaxPendingUploads <= 0 {
		opts.MaxPendingUploads = defaultMaxPending
	}
	if opts.MaxThumbnailPixels <= 0 {
		opts.MaxThumbnailPixels = defaultMaxPixels
	}
	f, err := newFiles(opts.Root)
	if err != nil {
		return nil, err
	}
	return &Repo{opts: opts, log: opts.Logger, files: f, waiters: newWaiters(),
		thumbs: newThumbnailer(opts.MaxThumbnailPixels), fetches: newFlights[*models.Media](),
		thumbFetches: newFlights[*models.MediaThumbnail](), outbound: newOutboundClient(opts.OutboundAllow, 0)}, nil
}

// MaxUploadBytes is the advertised m.upload.size.
func (r *Repo) MaxUploadBytes() int64 { return r.opts.MaxUploadBytes }

func (r *Repo) now() int64 { return r.opts.Now().UnixMilli() }

// newMediaID returns 24 random characters from the alphabet the spec allows
// in a media ID (A-Za-z0-9, see "Matrix Content (mxc://) URIs").
func newMediaID() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	var b [24]byte
	rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}

// ValidMediaID reports whether id uses only A-Za-z0-9, '_' and '-' (the
// spec's defence against directory traversal).
func ValidMediaID(id string) bool {
	if id == "" || len(id) > 255 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// MXC formats an mxc:// URI.
func MXC(origin, mediaID string) string { return "mxc://" + origin + "/" + mediaID }

// Upload stores body as new local media (POST /_matrix/media/v3/upload).
func (r *Repo) Upload(ctx context.Context, uploader, contentType, fileName string, body io.Reader) (string, error) {
	return r.upload(ctx, uploader, contentType, fileName, body, r.opts.MaxUploadBytes)
}

func (r *Repo) upload(ctx context.Context, uploader, contentType, fileName string, body io.Reader, limit int64) (string, error) {
	w, err := r.writeUpload(ctx, uploader, body, limit)
	if err != nil {
		return "", err
	}
	origin, now := string(r.opts.ServerName), r.now()
	m := &models.Media{Origin: origin, MediaID: newMediaID(), Uploader: uploader,
		ContentType: contentType, FileName: fileName, Size: w.size, SHA256: w.sha256,
		CreatedAt: now, UploadedAt: now, LastAccessAt: now}
	// The row goes first: a (never expected) ID collision then fails with
	// ErrConflict instead of overwriting another file. Nobody can ask for the
	// new ID before this function returns it, so the gap until the file is
	// in place is invisible.
	if err := r.opts.Store.CreateMedia(ctx, m); err != nil {
		r.files.discard(w)
		return "", err
	}
	if err := r.files.commit(w, r.files.contentPath(origin, m.MediaID)); err != nil {
		r.opts.Store.DeleteMedia(ctx, origin, m.MediaID)
		return "", err
	}
	return MXC(origin, m.MediaID), nil
}

// Create reserves an mxc:// URI for a later upload (POST /_matrix/media/v1/create).
func (r *Repo) Create(ctx context.Context, uploader string) (string, int64, error) {
	now := r.now()
	n, err := r.opts.Store.CountPendingUploads(ctx, uploader, now)
	if err != nil {
		return "", 0, err
	}
	if n >= int64(r.opts.MaxPendingUploads) {
		// content-repo.yaml: too many pending uploads is 429 M_LIMIT_EXCEEDED.
		return "", 0, spec.LimitExceeded(60_000)
	}
	expires := now + r.opts.PendingExpiry.Milliseconds()
	m := &models.Media{Origin: string(r.opts.ServerName), MediaID: newMediaID(), Uploader: uploader,
		CreatedAt: now, ExpiresAt: expires}
	if err := r.opts.Store.CreateMedia(ctx, m); err != nil {
		return "", 0, err
	}
	return MXC(m.Origin, m.MediaID), expires, nil
}

// UploadTo fills a URI created by Create (PUT /_matrix/media/v3/upload/...).
func (r *Repo) UploadTo(ctx context.Context, uploader, origin, mediaID, contentType, fileName string, body io.Reader) error {
	if err := r.checkUploadable(ctx, uploader, origin, mediaID); err != nil {
		return err
	}
	w, err := r.writeUpload(ctx, uploader, body, r.opts.MaxUploadBytes)
	if err != nil {
		return err
	}
	now := r.now()
	m := &models.Media{Origin: origin, MediaID: mediaID, Uploader: uploader, ContentType: contentType,
		FileName: fileName, Size: w.size, SHA256: w.sha256, UploadedAt: now}
	// The row update is the single point that decides a race between two
	// uploads: the file is only moved into place by the winner.
	if err := r.opts.Store.CompleteUpload(ctx, m, now); err != nil {
		r.files.discard(w)
		if errors.Is(err, models.ErrNotFound) {
			return r.checkUploadable(ctx, uploader, origin, mediaID)
		}
		return err
	}
	if err := r.files.commit(w, r.files.contentPath(origin, mediaID)); err != nil {
		return err
	}
	r.waiters.done(origin + "/" + mediaID)
	return nil
}

// checkUploadable explains why a PUT upload may not proceed
// (content-repo.yaml: 404 unknown or expired, 403 someone else's, 409 done).
func (r *Repo) checkUploadable(ctx context.Context, uploader, origin, mediaID string) error {
	if origin != string(r.opts.ServerName) {
		return spec.NotFound("media %s was not created on this server", MXC(origin, mediaID))
	}
	m, err := r.opts.Store.GetMedia(ctx, origin, mediaID)
	switch {
	case errors.Is(err, models.ErrNotFound):
		return spec.NotFound("unknown media ID")
	case err != nil:
		return err
	case m.Uploader != uploader:
		return spec.Forbidden("this media ID was created by another user")
	case m.UploadedAt != 0:
		return spec.NewError(http.StatusConflict, ErrCannotOverwrite, "media already uploaded")
	case m.ExpiresAt <= r.now():
		return spec.NotFound("this media ID has expired")
	}
	return nil
}

// waiters lets downloads of a pending upload wait for it without polling.
type waiters struct {
	mu sync.Mutex
	m  map[string]chan struct{}
}

func newWaiters() *waiters { return &waiters{m: map[string]chan struct{}{}} }

func (w *waiters) wait(key string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	ch, ok := w.m[key]
	if !ok {
		ch = make(chan struct{})
		w.m[key] = ch
	}
	return ch
}

func (w *waiters) done(key string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ch, ok := w.m[key]; ok {
		close(ch)
		delete(w.m, key)
	}
}
