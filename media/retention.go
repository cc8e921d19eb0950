package media

import (
	"context"
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
