package presence

import (
	"context"
	"time"
)

// runSafetyNet bounds Run's sleep: it sleeps until the next expiry, or
// until a change rings t.work; this only guards against a missed signal.
const runSafetyNet = 10 * time.Minute

// minRunWait keeps Run from spinning on an expiry that is due but not yet
// past by the clock's reading.
const minRunWait = 10 * time.Millisecond

// Run expires presence until ctx ends: online users idle for IdleTimeout
// become unavailable, users whose clients stopped syncing and sending for
// OfflineAfter become offline. It sleeps until the earliest such expiry; when nobody is
// online or unavailable there is none, and it waits for a change to ring
// t.work (with only a long safety-net timer), so an idle server does not
// wake.
func (t *Tracker) Run(ctx context.Context) error {
	if !t.opts.Enabled {
		<-ctx.Done()
		return nil
	}
	timer := time.NewTimer(runSafetyNet)
	defer timer.Stop()
	for {
		changed, next := t.expire()
		for _, u := range changed {
			t.wake(ctx, u)
		}
		wait := runSafetyNet
		if !next.IsZero() {
			wait = min(max(next.Sub(t.opts.Now()), minRunWait), runSafetyNet)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-t.work:
		case <-timer.C:
		}
	}
}

// poke tells Run that an expiry may have come closer: a user became
// online or unavailable.
func (t *Tracker) poke() {
	select {
	case t.work <- struct{}{}:
	default:
	}
}

// expire applies the timeouts and returns the users whose state changed
// and the time of the next expiry (zero when nobody can expire).
func (t *Tracker) expire() (changed []string, next time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.opts.Now()
	earliest := func(at time.Time) {
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	for u, e := range t.users {
		// A client that sends events without syncing (a bot, a script) is
		// as alive as one that syncs: offline counts from the later of the
		// two, as Synapse does, so each message does not turn its user
		// online and straight back offline (and send two m.presence EDUs
		// to every server sharing a room).
		alive := e.lastSync
		if e.lastActive.After(alive) {
			alive = e.lastActive
		}
		nextState := e.presence
		switch {
		case e.presence != Offline && now.Sub(alive) >= t.opts.OfflineAfter:
			nextState = Offline
		case e.presence == Online && now.Sub(e.lastActive) >= t.opts.IdleTimeout:
			nextState = Unavailable
		}
		if nextState != e.presence {
			e.presence = nextState
			t.bump(e)
			changed = append(changed, u)
		}
		if e.presence != Offline {
			earliest(alive.Add(t.opts.OfflineAfter))
		}
		if e.presence == Online {
			earliest(e.lastActive.Add(t.opts.IdleTimeout))
		}
	}
	return changed, next
}
