package notifications

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/store"
)

const (
	// positionName keys the worker's row in worker_positions.
	positionName = "push_notifications"
	// maxCatchUp bounds how many stream positions a restart re-evaluates,
	// so a database left behind for long does not stall startup.
	maxCatchUp = 10_000
	// maxPushAge is how old an event may be and still go to push gateways
	// after a restart: a phone buzzing for an hours-old message is noise,
	// while its unread count is still recorded.
	maxPushAge = time.Hour
)

// resume moves the worker back to the position it stored before the last
// stop, so events committed while it was not running are evaluated. On a
// fresh database (no stored position) it starts at the current position.
func (s *Service) resume(ctx context.Context) error {
	cur := s.opts.Events.Current()
	pos, err := s.st.WorkerPosition(ctx, positionName)
	if errors.Is(err, store.ErrNotFound) {
		return s.st.SetWorkerPosition(ctx, positionName, s.Processed())
	}
	if err != nil {
		return fmt.Errorf("resume push notifications: %w", err)
	}
	pos = max(pos, cur-maxCatchUp)
	s.mu.Lock()
	// Only move back: nothing after the stored position has been recorded.
	s.processed = min(s.processed, pos)
	s.mu.Unlock()
	return nil
}

// record stores a batch's notifications and the position they reach in one
// transaction, so a restart neither loses nor repeats them.
func (s *Service) record(ctx context.Context, notes []models.Notification, to int64) error {
	return s.st.Transaction(ctx, func(tx *store.Store) error {
		if err := tx.AddNotifications(ctx, notes); err != nil {
			return err
		}
		return tx.SetWorkerPosition(ctx, positionName, to)
	})
}

// fresh drops notifications of events older than maxPushAge (by
// origin_server_ts) from gateway delivery.
func fresh(notes []models.Notification, now time.Time) []models.Notification {
	cutoff := now.Add(-maxPushAge).UnixMilli()
	out := notes[:0:0]
	for _, n := range notes {
		if n.TS >= cutoff {
			out = append(out, n)
		}
	}
	return out
}
