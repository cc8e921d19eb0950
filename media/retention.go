package media

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// sweepEvery is how often Run looks for expired media.
const (
	sweepEvery = 10 * time.Minute
	sweepBatch = 500
)

// Run removes, until ctx ends, cached remote media unused for longer than
// the retention, created-but-never-uploaded media IDs past their
// unused_expires_at (content-repo.yaml /create) and stale URL previews.
func (r *Repo) Run(ctx context.Context) error {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		if _, err := r.Sweep(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("media retention sweep failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Sweep does one retention pass and reports how many media items it removed.
func (r *Repo) Sweep(ctx context.Context) (int, error) {
	now := r.now()
	var remoteBefore int64
	if r.opts.RemoteRetention > 0 {
		remoteBefore = now - r.opts.RemoteRetention.Milliseconds()
	}
	removed := 0
	if remoteBefore > 0 {
		if err := r.sweepRemoteThumbnails(ctx, remoteBefore); err != nil {
			return removed, err
		}
	}
	for {
		rows, err := r.opts.Store.ExpiredMedia(ctx, string(r.opts.ServerName), remoteBefore, now, sweepBatch)
		if err != nil {
			return removed, err
		}
		for _, m := range rows {
			if err := r.Delete(ctx, m.Origin, m.MediaID); err != nil {
				return removed, err
			}
			removed++
		}
		if len(rows) < sweepBatch {
			break
		}
	}
	return removed, r.opts.Store.DeleteExpiredURLPreviews(ctx, now)
}

// sweepRemoteThumbnails drops thumbnails of remote media older than the
// retention; they are fetched or made again when asked for.
func (r *Repo) sweepRemoteThumbnails(ctx context.Context, before int64) error {
	for {
		rows, err := r.opts.Store.ExpiredRemoteThumbnails(ctx, string(r.opts.ServerName), before, sweepBatch)
		if err != nil {
			return err
		}
		for _, t := range rows {
			if err := r.opts.Store.DeleteThumbnail(ctx, t); err != nil {
				return err
			}
			path := r.files.thumbPath(t.Origin, t.MediaID, thumbSpec{Width: t.Width, Height: t.Height, Method: t.Method, Animated: t.Animated})
			if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("delete thumbnail file: %w", err)
			}
		}
		if len(rows) < sweepBatch {
			return nil
		}
	}
}
