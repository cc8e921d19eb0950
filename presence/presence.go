// Package presence tracks users' presence (client-server-api "Presence":
// online, unavailable, offline, status_msg, last_active_ago,
// currently_active) in memory and serves it to /sync as the presence side
// stream. It restarts empty with the process, like typing; sync tokens
// treat the presence slot accordingly.
package presence

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	clientsync "github.com/kabarchat/kabar/clientapi/sync"
)

// The presence states (presence.yaml).
const (
	Online      = "online"
	Unavailable = "unavailable"
	Offline     = "offline"
)

// Valid reports whether p is a presence state.
func Valid(p string) bool { return p == Online || p == Unavailable || p == Offline }

// Options configures a Tracker.
type Options struct {
	// Enabled off: the API answers but nothing is tracked or sent.
	Enabled bool
	// IdleTimeout makes an online user without activity unavailable;
	// OfflineAfter makes a user whose clients stopped syncing offline.
	IdleTimeout  time.Duration
	OfflineAfter time.Duration
	// Peers lists the users who share a room with the user.
	Peers func(ctx context.Context, userID string) ([]string, error)
	// Wake wakes parked syncs after a change.
	Wake func(userIDs ...string)
	// Publish hears every change of a user's presence (not the repeated
	// online refreshes of /sync) with the users sharing a room with them;
	// the server relays local users' changes over federation
	// (server-server-api "Presence").
	Publish func(ctx context.Context, userID string, st Status, peers []string)
	Now     func() time.Time
}

// Status is one user's presence as the API reports it.
type Status struct {
	Presence        string  `json:"presence"`
	LastActiveAgo   *int64  `json:"last_active_ago,omitempty"`
	StatusMsg       *string `json:"status_msg,omitempty"`
	CurrentlyActive *bool   `json:"currently_active,omitempty"`
}

type entry struct {
	presence   string
	statusMsg  *string
	lastActive time.Time
	lastSync   time.Time
	pos        int64
}

// Tracker holds everyone's presence; it implements
// clientsync.ExtensionSource for the presence slot.
type Tracker struct {
	opts  Options
	mu    sync.Mutex
	users map[string]*entry
	pos   int64
}

// New builds a tracker.
func New(opts Options) *Tracker {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 5 * time.Minute
	}
	if opts.OfflineAfter <= 0 {
		opts.OfflineAfter = time.Minute
	}
	return &Tracker{opts: opts, users: map[string]*entry{}}
}

// Enabled reports whether presence is tracked.
func (t *Tracker) Enabled() bool { return t.opts.Enabled }

// Set applies PUT /presence/{userId}/status: an explicit change that also
// counts as activity.
func (t *Tracker) Set(ctx context.Context, userID, presence string, statusMsg *string) {
	if !t.opts.Enabled {
		return
	}
	t.mu.Lock()
	e := t.entry(userID)
	now := t.opts.Now()
	e.lastActive, e.lastSync = now, now
	changed := e.presence != presence || !sameMsg(e.statusMsg, statusMsg)
	e.presence, e.statusMsg = presence, statusMsg
	if changed {
		t.bump(e)
	}
	t.mu.Unlock()
	if changed {
		t.wake(ctx, userID)
	}
}

// Synced records a /sync with set_presence (client-server-api: omitted
// means online). Syncing keeps a user online but only a state change moves
// the stream, so syncs never wake other syncs in a loop.
func (t *Tracker) Synced(ctx context.Context, userID, setPresence string) {
	if !t.opts.Enabled || setPresence == Offline {
		return
	}
	if setPresence == "" {
		setPresence = Online
	}
	t.mu.Lock()
	e := t.entry(userID)
	now := t.opts.Now()
	e.lastSync = now
	changed := e.presence != setPresence && !(setPresence == Online && e.presence == Unavailable && now.Sub(e.lastActive) >= t.opts.IdleTimeout)
	if changed {
		e.presence, e.lastActive = setPresence, now
		t.bump(e)
	}
	t.mu.Unlock()
	if changed {
		t.wake(ctx, userID)
	}
}

// Active records user activity (sending an event): an idle user is
// online again.
func (t *Tracker) Active(ctx context.Context, userID string) {
	if !t.opts.Enabled {
		return
	}
	t.mu.Lock()
	e := t.entry(userID)
	e.lastActive = t.opts.Now()
	changed := e.presence != Online
	if changed {
		e.presence = Online
		t.bump(e)
	}
	t.mu.Unlock()
	if changed {
		t.wake(ctx, userID)
	}
}

// Get returns a user's presence (offline when unknown or disabled).
func (t *Tracker) Get(userID string) Status {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.users[userID]
	if e == nil || !t.opts.Enabled {
		return Status{Presence: Offline}
	}
	return t.status(e)
}

func (t *Tracker) status(e *entry) Status {
	st := Status{Presence: e.presence, StatusMsg: e.statusMsg}
	if !e.lastActive.IsZero() {
		ago := t.opts.Now().Sub(e.lastActive).Milliseconds()
		st.LastActiveAgo = &ago
	}
	if e.presence == Online {
		active := t.opts.Now().Sub(e.lastActive) < t.opts.IdleTimeout
		st.CurrentlyActive = &active
	}
	return st
}

func (t *Tracker) entry(userID string) *entry {
	e := t.users[userID]
	if e == nil {
		e = &entry{presence: Offline}
		t.users[userID] = e
	}
	return e
}

// bump moves the entry to the next stream position (caller holds mu).
func (t *Tracker) bump(e *entry) {
	t.pos++
	e.pos = t.pos
}

func (t *Tracker) wake(ctx context.Context, userID string) {
	if t.opts.Wake == nil && t.opts.Publish == nil {
		return
	}
	var peers []string
	if t.opts.Peers != nil {
		peers, _ = t.opts.Peers(context.WithoutCancel(ctx), userID)
	}
	if t.opts.Wake != nil {
		t.opts.Wake(append([]string{userID}, peers...)...)
	}
	if t.opts.Publish != nil {
		t.opts.Publish(ctx, userID, t.Get(userID), peers)
	}
}

func sameMsg(a, b *string) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

// Stream implements clientsync.ExtensionSource.
func (t *Tracker) Stream() clientsync.StreamID { return clientsync.StreamPresence }

// Current implements clientsync.ExtensionSource.
func (t *Tracker) Current() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pos
}

// Fill implements clientsync.ExtensionSource: m.presence events of users
// sharing a room with the syncing user (and the user) changed in
// (Since, Upto].
func (t *Tracker) Fill(ctx context.Context, q clientsync.ExtensionQuery, out *clientsync.Extensions) error {
	if !t.opts.Enabled || q.Upto <= q.Since {
		return nil
	}
	t.mu.Lock()
	changed := map[string]Status{}
	for u, e := range t.users {
		if e.pos > q.Since && e.pos <= q.Upto {
			changed[u] = t.status(e)
		}
	}
	t.mu.Unlock()
	if len(changed) == 0 {
		return nil
	}
	visible := map[string]bool{q.UserID: true}
	if t.opts.Peers != nil {
		peers, err := t.opts.Peers(ctx, q.UserID)
		if err != nil {
			return err
		}
		for _, p := range peers {
			visible[p] = true
		}
	}
	for u, st := range changed {
		if !visible[u] {
			continue
		}
		ev, err := json.Marshal(map[string]any{"type": "m.presence", "sender": u, "content": st})
		if err != nil {
			return err
		}
		out.Presence = append(out.Presence, ev)
	}
	return nil
}

// SharesRoom reports whether viewer may see target's presence: they share
// a joined room.
func (t *Tracker) SharesRoom(ctx context.Context, viewer, target string) (bool, error) {
	if t.opts.Peers == nil {
		return false, nil
	}
	peers, err := t.opts.Peers(ctx, viewer)
	if err != nil {
		return false, err
	}
	return slices.Contains(peers, target), nil
}
