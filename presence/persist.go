package presence

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/kabarchat/kabar/models"
)

// Store keeps presence across restarts; *store.Store satisfies it.
type Store interface {
	LoadPresence(ctx context.Context) ([]models.PresenceState, error)
	SavePresence(ctx context.Context, rows []models.PresenceState) error
}

// restartSkip is how far the stream jumps past the highest saved position
// on load. Changes of the last FlushInterval before a crash may have been
// sent to clients without being saved; skipping ahead keeps a token holding
// such a position below every position issued after the restart, so its
// holder misses nothing.
const restartSkip = 1 << 20

// Load reads the saved presence; run it once, before serving requests.
// Nobody is connected to an event stream at start, so a user saved online
// comes back unavailable (presence.md "Idle timeout": a sync within
// IdleTimeout of their last activity makes them online again, and Run
// takes them offline if no client returns within OfflineAfter); status
// messages and last active times are kept.
func (t *Tracker) Load(ctx context.Context) error {
	if !t.opts.Enabled || t.opts.Store == nil {
		return nil
	}
	rows, err := t.opts.Store.LoadPresence(ctx)
	if err != nil {
		return fmt.Errorf("load presence: %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.opts.Now()
	var high int64
	for _, r := range rows {
		if !Valid(r.Presence) {
			continue
		}
		e := &entry{userID: r.UserID, presence: r.Presence, statusMsg: r.StatusMsg, lastSync: now, pos: r.StreamPos}
		if r.LastActiveTS > 0 {
			e.lastActive = time.UnixMilli(r.LastActiveTS)
		}
		t.users[r.UserID] = e
		high = max(high, r.StreamPos)
	}
	if high < math.MaxInt64-restartSkip {
		t.pos = max(t.pos, high+restartSkip)
	}
	for _, e := range t.users {
		if e.presence == Online {
			e.presence = Unavailable
			t.bump(e)
		}
	}
	return nil
}

// Persist writes the changed users' presence every FlushInterval until ctx
// ends, then once more: one batched write per interval however many
// /sync requests and events moved presence meanwhile. A failed write is
// retried at the next tick and never stops the server.
func (t *Tracker) Persist(ctx context.Context) error {
	if !t.opts.Enabled || t.opts.Store == nil {
		<-ctx.Done()
		return nil
	}
	tick := time.NewTicker(t.opts.FlushInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if err := t.flush(final); err != nil {
				t.opts.Logger.Warn("presence not saved at shutdown", "err", err)
			}
			return nil
		case <-tick.C:
			if err := t.flush(ctx); err != nil {
				t.opts.Logger.Warn("presence not saved; retrying", "err", err)
			}
		}
	}
}

// flush saves the users changed since the last flush; on failure they stay
// marked for the next one.
func (t *Tracker) flush(ctx context.Context) error {
	t.mu.Lock()
	rows := make([]models.PresenceState, 0, len(t.dirty))
	for u := range t.dirty {
		e := t.users[u]
		if e == nil {
			continue
		}
		r := models.PresenceState{UserID: u, Presence: e.presence, StatusMsg: e.statusMsg, StreamPos: e.pos}
		if !e.lastActive.IsZero() {
			r.LastActiveTS = e.lastActive.UnixMilli()
		}
		rows = append(rows, r)
	}
	clear(t.dirty)
	t.mu.Unlock()
	if err := t.opts.Store.SavePresence(ctx, rows); err != nil {
		t.mu.Lock()
		for _, r := range rows {
			t.dirty[r.UserID] = true
		}
		t.mu.Unlock()
		return fmt.Errorf("save presence of %d users: %w", len(rows), err)
	}
	return nil
}

// markDirty marks a user for the next flush (caller holds mu).
func (t *Tracker) markDirty(userID string) {
	if t.opts.Store != nil {
		t.dirty[userID] = true
	}
}
