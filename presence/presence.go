// Package presence tracks users' presence (client-server-api "Presence":
// online, unavailable, offline, status_msg, last_active_ago,
// currently_active) in memory and serves it to /sync as the presence side
// stream. With a Store, each user's last state, status message and last
// active time are written behind (batched, see Persist) and loaded back on
// start (see Load), so a restart keeps status messages.
package presence

import (
	"context"
	"encoding/json"
	"log/slog"
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
	// Store keeps presence across restarts (nil: memory only); changes are
	// written every FlushInterval (default 2s), not on every request.
	Store         Store
	FlushInterval time.Duration
	Logger        *slog.Logger
	Now           func() time.Time
}

// Status is one user's presence as the API reports it.
type Status struct {
	Presence        string  `json:"presence"`
	LastActiveAgo   *int64  `json:"last_active_ago,omitempty"`
	StatusMsg       *string `json:"status_msg,omitempty"`
	CurrentlyActive *bool   `json:"currently_active,omitempty"`
}

type entry struct {
	userID     string
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
	// dirty are the users changed since the last flush (guarded by mu).
	dirty map[string]bool
	// work rings Run after a change that may bring the next expiry
	// closer (run.go).
	work chan struct{}
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
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = 2 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Tracker{opts: opts, users: map[string]*entry{}, dirty: map[string]bool{}, work: make(chan struct{}, 1)}
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
	t.markDirty(userID) // last active moved
	if changed {
		t.bump(e)
	}
	t.mu.Unlock()
	if changed {
		t.poke()
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
		t.poke()
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
	t.markDirty(userID)
	changed := e.presence != Online
	if changed {
		e.presence = Online
		t.bump(e)
	}
	t.mu.Unlock()
	if changed {
		t.poke()
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
		e = &entry{userID: userID, presence: Offline}
		t.users[userID] = e
	}
	return e
}

// bump moves the entry to the next stream position and marks it for the
// next flush (caller holds mu).
func (t *Tracker) bump(e *entry) {
	t.pos++
	e.pos = t.pos
	t.markDirty(e.userID)
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
	changed := t.Changes(q.Since, q.Upto)
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

// Changes returns the users whose presence changed in (since, upto] with
// their current presence (none when disabled).
func (t *Tracker) Changes(since, upto int64) map[string]Status {
	if !t.opts.Enabled || upto <= since {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	changed := map[string]Status{}
	for u, e := range t.users {
		if e.pos > since && e.pos <= upto {
			changed[u] = t.status(e)
		}
	}
	return changed
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
