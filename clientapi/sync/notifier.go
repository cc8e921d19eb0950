// Package sync is the /sync machinery: the notifier that parks long-polls
// and wakes exactly the users an event concerns, the opaque sync tokens
// (a position in the global event stream plus the side streams), the
// side-stream allocators, in-memory typing, filters, and the seam through
// which end-to-end encryption adds its streams (ExtensionSource).
//
// The response assembly lives in package clientapi (sync*.go), next to the
// client event formatting it shares with the room endpoints.
package sync

import (
	stdsync "sync"
	"sync/atomic"
)

// Notifier implements rooms.Notifier: it wakes the parked /sync requests of
// the users an event concerns. Each user with a parked request has one
// channel that is closed (and replaced) on a wake-up, so any number of
// devices of that user wait on it at no cost and nothing polls.
type Notifier struct {
	mu    stdsync.Mutex
	users map[string]*listener
	// waiting counts requests blocked on a wake-up right now (their
	// response built and found empty); Parked also counts those still
	// building it.
	waiting atomic.Int64
}

// listener is the wake-up state of one user with at least one parked
// request.
type listener struct {
	ch      chan struct{}
	waiters int
	// eventPos is the highest global stream position notified for the user:
	// a woken request waits until the stream's readable position reaches it
	// (another room's earlier commit may still be finishing).
	eventPos int64
}

// NewNotifier returns an empty notifier.
func NewNotifier() *Notifier {
	return &Notifier{users: map[string]*listener{}}
}

// Notify implements rooms.Notifier: events up to pos concern userIDs.
func (n *Notifier) Notify(pos int64, userIDs []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, u := range userIDs {
		if l := n.users[u]; l != nil {
			l.eventPos = max(l.eventPos, pos)
			l.wake()
		}
	}
}

// Wake wakes the users' parked requests for a side-stream change (account
// data, receipts, typing, presence, to-device, device lists). Callers wake
// only after the change is readable.
func (n *Notifier) Wake(userIDs ...string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, u := range userIDs {
		if l := n.users[u]; l != nil {
			l.wake()
		}
	}
}

func (l *listener) wake() {
	close(l.ch)
	l.ch = make(chan struct{})
}

// Listening reports how many users have parked requests (metrics, tests).
func (n *Notifier) Listening() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.users)
}

// Parked reports how many requests are subscribed (metrics, tests).
func (n *Notifier) Parked() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	total := 0
	for _, l := range n.users {
		total += l.waiters
	}
	return total
}

// Waiting reports how many requests are blocked waiting for a wake-up
// (benchmarks: every long-poll has built its first response).
func (n *Notifier) Waiting() int64 { return n.waiting.Load() }

// Subscription is one parked request's handle on its user's wake-ups.
// Take it before reading the streams, so a change that lands between the
// read and the wait is not missed.
type Subscription struct {
	n    *Notifier
	user string
	l    *listener
	ch   chan struct{}
}

// Subscribe registers a waiter for user. Call Close when done.
func (n *Notifier) Subscribe(user string) *Subscription {
	n.mu.Lock()
	defer n.mu.Unlock()
	l := n.users[user]
	if l == nil {
		l = &listener{ch: make(chan struct{})}
		n.users[user] = l
	}
	l.waiters++
	return &Subscription{n: n, user: user, l: l, ch: l.ch}
}

// C is closed when the user has been woken since Subscribe or the last
// Rearm.
func (s *Subscription) C() <-chan struct{} { return s.ch }

// Rearm takes the current channel again (after a wake-up whose re-read found
// nothing for this request) and returns the highest event position notified
// so far.
func (s *Subscription) Rearm() int64 {
	s.n.mu.Lock()
	defer s.n.mu.Unlock()
	s.ch = s.l.ch
	return s.l.eventPos
}

// EventPos is the highest global stream position notified for the user.
func (s *Subscription) EventPos() int64 {
	s.n.mu.Lock()
	defer s.n.mu.Unlock()
	return s.l.eventPos
}

// Close unregisters the waiter; the user's entry goes when the last one
// leaves, so memory follows parked requests, not users ever seen.
func (s *Subscription) Close() {
	s.n.mu.Lock()
	defer s.n.mu.Unlock()
	if s.l == nil {
		return
	}
	s.l.waiters--
	if s.l.waiters == 0 && s.n.users[s.user] == s.l {
		delete(s.n.users, s.user)
	}
	s.l = nil
}
