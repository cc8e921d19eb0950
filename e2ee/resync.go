package e2ee

import (
	"context"
	"sync"
	"time"
)

// Bounds of the remote device-list resync retries: a user whose list is
// stale is retried with exponential backoff from Options.ResyncRetry up to
// maxResyncBackoff, at most maxResyncAttempts times, after which it waits
// for the user's next m.device_list_update (server-server-api "Device
// Management": a server that missed updates resyncs via /user/devices).
const (
	maxResyncAttempts = 8
	maxResyncBackoff  = time.Hour
	maxResyncPending  = 10000
	resyncLoadLimit   = 1000
	// resyncSafetyNet bounds an idle worker's sleep: new work rings the
	// queue's wake channel and retries have a due time, so this only
	// guards against a missed signal.
	resyncSafetyNet = 10 * time.Minute
)

// resyncEntry is one user waiting for a resync.
type resyncEntry struct {
	attempts int
	due      time.Time
}

// resyncQueue holds the remote users whose device lists must be refetched.
type resyncQueue struct {
	mu      sync.Mutex
	pending map[string]*resyncEntry
	wake    chan struct{}
}

func newResyncQueue() *resyncQueue {
	return &resyncQueue{pending: map[string]*resyncEntry{}, wake: make(chan struct{}, 1)}
}

// add schedules userID now (a new gap resets the attempt count).
func (q *resyncQueue) add(userID string, now time.Time) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.pending[userID]; !ok && len(q.pending) >= maxResyncPending {
		return false
	}
	q.pending[userID] = &resyncEntry{due: now}
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return true
}

// due removes and returns the users whose retry time has come.
func (q *resyncQueue) due(now time.Time) map[string]int {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := map[string]int{}
	for u, e := range q.pending {
		if e.attempts < maxResyncAttempts && !e.due.After(now) {
			out[u] = e.attempts
			delete(q.pending, u)
		}
	}
	return out
}

// next returns when the earliest retry is due (ok false when nothing is
// waiting but parked entries).
func (q *resyncQueue) next() (at time.Time, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, e := range q.pending {
		if e.attempts < maxResyncAttempts && (!ok || e.due.Before(at)) {
			at, ok = e.due, true
		}
	}
	return at, ok
}

// failed reschedules a user after a failed attempt with doubled backoff;
// after the last attempt the entry stays, parked, until add resets it.
func (q *resyncQueue) failed(userID string, attempts int, base time.Duration, now time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.pending[userID]; ok {
		return // a new gap arrived meanwhile and rescheduled it
	}
	wait := min(base<<min(attempts, 20), maxResyncBackoff)
	q.pending[userID] = &resyncEntry{attempts: attempts + 1, due: now.Add(wait)}
}

// queueResync asks the resync worker to refetch a user's device list.
func (s *Service) queueResync(userID string) {
	if !s.resync.add(userID, s.opts.Now()) {
		s.log.Warn("device list resync queue full", "user", userID)
	}
}

// runResync refetches stale remote device lists until ctx ends: the users
// marked stale in the store at start, every new gap (the queue's wake
// channel), and retries of failed attempts when the earliest is due. Idle,
// it sleeps until a signal, with only a long safety-net timer.
func (s *Service) runResync(ctx context.Context) error {
	if stale, err := s.st.StaleRemoteDeviceLists(ctx, resyncLoadLimit); err == nil {
		for _, u := range stale {
			s.queueResync(u)
		}
	} else if ctx.Err() == nil {
		s.log.Warn("load stale remote device lists", "err", err)
	}
	timer := time.NewTimer(resyncSafetyNet)
	defer timer.Stop()
	for {
		wait := resyncSafetyNet
		if at, ok := s.resync.next(); ok {
			wait = min(max(at.Sub(s.opts.Now()), 0), resyncSafetyNet)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-s.resync.wake:
		case <-timer.C:
		}
		for userID, attempts := range s.resync.due(s.opts.Now()) {
			if err := s.resyncUser(ctx, userID); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				s.log.Info("device list resync failed", "user", userID, "attempt", attempts+1, "err", err)
				s.resync.failed(userID, attempts, s.opts.ResyncRetry, s.opts.Now())
			}
		}
	}
}
