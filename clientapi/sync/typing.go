package sync

import (
	"context"
	"slices"
	stdsync "sync"
	"time"
)

// Typing tracks who is typing in which room, in memory (client-server-api
// "Typing Notifications": the state is ephemeral and expires after the
// client's timeout). Each change advances the typing stream; a room
// remembers the position of its last change, so /sync sends a room's
// m.typing only when it changed since the token.
type Typing struct {
	mu      stdsync.Mutex
	pos     int64
	rooms   map[string]*typingRoom
	now     func() time.Time
	changed func(roomID string)
	kick    chan struct{}
}

type typingRoom struct {
	until map[string]time.Time // user -> expiry
	pos   int64
}

// NewTyping returns an empty tracker. changed is called (outside the lock)
// after a room's typing set changed, to wake its members.
func NewTyping(changed func(roomID string), now func() time.Time) *Typing {
	if now == nil {
		now = time.Now
	}
	return &Typing{rooms: map[string]*typingRoom{}, now: now, changed: changed, kick: make(chan struct{}, 1)}
}

// Current is the typing stream's position.
func (t *Typing) Current() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pos
}

// Set marks user typing in room for timeout, or stopped when timeout is 0.
func (t *Typing) Set(roomID, user string, timeout time.Duration) {
	t.mu.Lock()
	r := t.rooms[roomID]
	if r == nil {
		r = &typingRoom{until: map[string]time.Time{}}
		t.rooms[roomID] = r
	}
	_, was := r.until[user]
	if timeout > 0 {
		r.until[user] = t.now().Add(timeout)
	} else {
		delete(r.until, user)
	}
	// Renewing a timeout changes nothing a client sees.
	changed := was != (timeout > 0)
	if changed {
		t.pos++
		r.pos = t.pos
	}
	t.mu.Unlock()
	if changed {
		t.changed(roomID)
	}
	select {
	case t.kick <- struct{}{}:
	default:
	}
}

// Since returns the typing users of the room if its set changed after pos
// (ok false otherwise).
func (t *Typing) Since(roomID string, pos int64) (users []string, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.rooms[roomID]
	if r == nil || r.pos <= pos {
		return nil, false
	}
	users = make([]string, 0, len(r.until))
	for u := range r.until {
		users = append(users, u)
	}
	slices.Sort(users)
	return users, true
}

// ChangedRooms lists rooms whose typing set changed after pos, among the
// given rooms of a user. It walks the rooms with typing activity, a small
// set, not the user's rooms.
func (t *Typing) ChangedRooms(pos int64, isMember func(roomID string) bool) []string {
	t.mu.Lock()
	var out []string
	for id, r := range t.rooms {
		if r.pos > pos {
			out = append(out, id)
		}
	}
	t.mu.Unlock()
	return slices.DeleteFunc(out, func(id string) bool { return !isMember(id) })
}

// Run expires typing notifications when their timeouts pass; it sleeps until
// the next expiry rather than ticking.
func (t *Typing) Run(ctx context.Context) error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next := t.expire()
		wait := time.Hour
		if !next.IsZero() {
			wait = max(next.Sub(t.now()), time.Millisecond)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-t.kick:
		case <-timer.C:
		}
	}
}

// expire drops passed timeouts and returns the next expiry.
func (t *Typing) expire() time.Time {
	now := t.now()
	var next time.Time
	var changed []string
	t.mu.Lock()
	for id, r := range t.rooms {
		n := len(r.until)
		for u, until := range r.until {
			if !until.After(now) {
				delete(r.until, u)
			} else if next.IsZero() || until.Before(next) {
				next = until
			}
		}
		if len(r.until) != n {
			t.pos++
			r.pos = t.pos
			changed = append(changed, id)
		}
	}
	t.mu.Unlock()
	for _, id := range changed {
		t.changed(id)
	}
	return next
}
