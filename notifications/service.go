// Package notifications turns committed events into push notifications
// (client-server-api "Push Notifications"): it follows the event stream,
// evaluates each local member's push rules (package push), records the
// notifications that give /sync its unread counts and GET /notifications
// its list, and delivers them to HTTP push gateways (push-gateway-api).
// It also serves the push rule and pusher APIs' storage logic.
package notifications

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/kabarchat/kabar/federation/rooms/streampos"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/push"
)

// Options configures the Service.
type Options struct {
	Store      *store.Store
	ServerName spec.ServerName
	// Events is the room service's stream; the worker reads up to its
	// readable position. Kick is the doorbell the room service rings.
	Events *streampos.Allocator
	Kick   *Kick
	// AccountData publishes m.push_rules after a rule change.
	AccountData func(ctx context.Context, userID, typ, content string) error
	// Client posts to push gateways; it should refuse private addresses
	// unless configured otherwise.
	Client *http.Client
	// RetryBase and RetryMax bound the exponential backoff of gateway
	// retries; MaxAttempts gives up on a notification.
	RetryBase   time.Duration
	RetryMax    time.Duration
	MaxAttempts int
	Logger      *slog.Logger
}

// Service records notifications and delivers them.
type Service struct {
	opts Options
	st   *store.Store
	log  *slog.Logger
	eval push.Evaluator

	mu    sync.Mutex
	rules map[string]*push.Ruleset
	// custom are the users whose rules are not exactly the server
	// defaults (custom.go), read from the store on first use
	// (customLoaded) and replaced, never changed in place, when a user
	// changes a rule.
	custom       map[string]bool
	customLoaded bool
	// processed is the event position up to which notifications are
	// recorded; done is closed and replaced when it moves.
	processed int64
	done      chan struct{}
	// pushUsers are the users with at least one pusher.
	pushUsers map[string]bool

	deliver *delivery
	// perUser turns off the shared evaluation of default rules: every
	// user runs their own ruleset. Only tests set it, as the reference.
	perUser bool
	// rooms is the worker's room cache (roomcache.go).
	rooms roomCache
}

// New builds the service; Run must be started for it to record anything.
func New(opts Options) (*Service, error) {
	if opts.Store == nil || opts.Events == nil || opts.Kick == nil {
		return nil, errors.New("notifications: Store, Events and Kick are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 15 * time.Second}
	}
	if opts.RetryBase <= 0 {
		opts.RetryBase = time.Second
	}
	if opts.RetryMax <= 0 {
		opts.RetryMax = 5 * time.Minute
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 8
	}
	s := &Service{
		opts: opts, st: opts.Store, log: opts.Logger,
		rules:     map[string]*push.Ruleset{},
		processed: opts.Events.Current(), done: make(chan struct{}), pushUsers: map[string]bool{},
		rooms: roomCache{},
	}
	// Back to the stored position before anything can ask how far the
	// worker is: a /sync right after a restart must wait for the events
	// committed while it was stopped, not take their counts as final.
	if err := s.resume(context.Background()); err != nil {
		return nil, err
	}
	s.deliver = newDelivery(s)
	return s, nil
}

// Kick is the worker's doorbell. It implements rooms.Notifier (server fans
// the room notifications out to it) and only signals, so the room writer
// never waits on rule evaluation.
type Kick struct{ ch chan struct{} }

// NewKick returns a doorbell for Options.Kick.
func NewKick() *Kick { return &Kick{ch: make(chan struct{}, 1)} }

// Notify implements rooms.Notifier.
func (k *Kick) Notify(int64, []string) {
	select {
	case k.ch <- struct{}{}:
	default:
	}
}

// Processed is the event position up to which notifications are recorded.
func (s *Service) Processed() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.processed
}

// WaitProcessed waits until notifications for events up to pos are
// recorded, ctx ends or a short bound passes (a lagging worker makes counts
// late, never a sync stuck).
func (s *Service) WaitProcessed(ctx context.Context, pos int64) {
	timer := time.NewTimer(2 * time.Second)
	defer timer.Stop()
	for {
		s.mu.Lock()
		reached, ch := s.processed >= pos, s.done
		s.mu.Unlock()
		if reached {
			return
		}
		// A stream advance that rang no doorbell (a gap) must not stall
		// syncs until the safety tick: ring it here.
		s.opts.Kick.Notify(0, nil)
		select {
		case <-ch:
		case <-timer.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

func (s *Service) advance(pos int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pos > s.processed {
		s.processed = pos
		close(s.done)
		s.done = make(chan struct{})
	}
}

// PushRulesEvent is the m.push_rules account data event of a user who
// never changed a rule (so none is stored): clients expect it in the
// initial /sync (push.md "Push Rules: Events").
func (s *Service) PushRulesEvent(ctx context.Context, userID string) (json.RawMessage, error) {
	rs, err := s.Rules(ctx, userID)
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"type": "m.push_rules", "content": map[string]any{"global": rs}})
}

// NotifiedRooms lists the rooms where the user has any notification.
func (s *Service) NotifiedRooms(ctx context.Context, userID string) ([]string, error) {
	return s.st.NotifiedRooms(ctx, userID)
}

// UnreadCounts are a room's notification and highlight counts after the
// user's read receipt (client-server-api "Receiving notifications").
func (s *Service) UnreadCounts(ctx context.Context, userID, roomID string) (notify, highlight int64, err error) {
	return s.st.UnreadCountsNow(ctx, userID, roomID)
}

// Run records notifications as events commit and delivers them to push
// gateways until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	users, err := s.st.UsersWithPushers(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	s.mu.Lock()
	for _, u := range users {
		s.pushUsers[u] = true
	}
	s.mu.Unlock()
	// Catch up on what committed while stopped before waiting for a kick.
	s.opts.Kick.Notify(0, nil)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); s.deliver.run(ctx) }()
	defer wg.Wait()
	tick := time.NewTicker(30 * time.Second) // safety net for a missed kick
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.opts.Kick.ch:
		case <-tick.C:
		}
		if err := s.catchUp(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("push notifications", "err", err)
		}
	}
}

// UnreadCountsByRoom is UnreadCounts for all the user's rooms with unread
// notifications at once (an initial /sync); other rooms have none.
func (s *Service) UnreadCountsByRoom(ctx context.Context, userID string) (map[string][2]int64, error) {
	rows, err := s.st.UnreadCountsByRoom(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make(map[string][2]int64, len(rows))
	for _, r := range rows {
		out[r.RoomID] = [2]int64{r.N, r.H}
	}
	return out, nil
}
