package presence

import (
	"context"
	"time"
)

// Run expires presence until ctx ends: online users idle for IdleTimeout
// become unavailable, users whose clients stopped syncing for OfflineAfter
// become offline.
func (t *Tracker) Run(ctx context.Context) error {
	if !t.opts.Enabled {
		<-ctx.Done()
		return nil
	}
	every := min(t.opts.IdleTimeout, t.opts.OfflineAfter) / 4
	tick := time.NewTicker(max(every, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			for _, u := range t.expire() {
				t.wake(ctx, u)
			}
		}
	}
}

// expire applies the timeouts and returns the users whose state changed.
func (t *Tracker) expire() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.opts.Now()
	var changed []string
	for u, e := range t.users {
		next := e.presence
		switch {
		case e.presence != Offline && now.Sub(e.lastSync) >= t.opts.OfflineAfter:
			next = Offline
		case e.presence == Online && now.Sub(e.lastActive) >= t.opts.IdleTimeout:
			next = Unavailable
		}
		if next != e.presence {
			e.presence = next
			t.bump(e)
			changed = append(changed, u)
		}
	}
	return changed
}
