package media

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/kabarchat/kabar/models/spec"
)

// files lays media out on disk. Every path is derived from a SHA-256 of
// (origin, media ID), never from the IDs themselves, so no ID can name a
// path outside the root, and the two-level fan-out (ab/cd/...) keeps any one
// directory to a few thousand entries even with millions of files.
type files struct {
	root string
}

func newFiles(root string) (*files, error) {
	for _, dir := range []string{"content", "thumbnails", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o700); err != nil {
			return nil, fmt.Errorf("create media directory: %w", err)
		}
	}
	return &files{root: root}, nil
}

func fanout(origin, mediaID string) (string, string, string) {
	sum := sha256.Sum256([]byte(origin + "\x00" + mediaID))
	h := hex.EncodeToString(sum[:])
	return h[0:2], h[2:4], h
}

// contentPath is where the original bytes of a media item live.
func (f *files) contentPath(origin, mediaID string) string {
	a, b, h := fanout(origin, mediaID)
	return filepath.Join(f.root, "content", a, b, h)
}

// thumbDir holds every thumbnail of one media item (deleted together).
func (f *files) thumbDir(origin, mediaID string) string {
	a, b, h := fanout(origin, mediaID)
	return filepath.Join(f.root, "thumbnails", a, b, h)
}

func (f *files) thumbPath(origin, mediaID string, t thumbSpec) string {
	name := strconv.Itoa(t.Width) + "x" + strconv.Itoa(t.Height) + "-" + t.Method
	if t.Animated {
		name += "-animated"
	}
	return filepath.Join(f.thumbDir(origin, mediaID), name)
}

// written describes a file that writeTemp stored.
type written struct {
	tmp    string
	size   int64
	sha256 string
}

// writeTemp streams r into a temporary file while hashing it; it never holds
// the content in memory. More than max bytes (max > 0) is refused with 413
// M_TOO_LARGE and the partial file removed.
func (f *files) writeTemp(r io.Reader, max int64) (*written, error) {
	var rnd [12]byte
	rand.Read(rnd[:])
	tmp := filepath.Join(f.root, "tmp", hex.EncodeToString(rnd[:]))
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create temporary media file: %w", err)
	}
	h := sha256.New()
	src := r
	if max > 0 {
		src = io.LimitReader(r, max+1)
	}
	n, err := io.Copy(io.MultiWriter(out, h), src)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil && max > 0 && n > max {
		err = spec.TooLarge("content is larger than %d bytes", max)
	}
	if err != nil {
		os.Remove(tmp)
		return nil, err
	}
	return &written{tmp: tmp, size: n, sha256: hex.EncodeToString(h.Sum(nil))}, nil
}

// commit moves a temporary file to its final path.
func (f *files) commit(w *written, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		os.Remove(w.tmp)
		return fmt.Errorf("create media directory: %w", err)
	}
	if err := os.Rename(w.tmp, dst); err != nil {
		os.Remove(w.tmp)
		return fmt.Errorf("store media file: %w", err)
	}
	return nil
}

// discard drops a temporary file that will not be committed.
func (f *files) discard(w *written) { os.Remove(w.tmp) }

// remove deletes a media item's content and thumbnails; missing files are fine.
func (f *files) remove(origin, mediaID string) error {
	err := os.Remove(f.contentPath(origin, mediaID))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete media file: %w", err)
	}
	if err := os.RemoveAll(f.thumbDir(origin, mediaID)); err != nil {
		return fmt.Errorf("delete thumbnails: %w", err)
	}
	return nil
}
