package sync

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/kabarchat/kabar/clientapi/clientevent"
	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// Options configures a Syncer.
type Options struct {
	Rooms    *rooms.Service
	Store    *store.Store
	Streams  *Streams
	Notifier *Notifier
	Format   *clientevent.Formatter
	// MaxTimeout clamps the long-poll timeout a client asks for.
	MaxTimeout time.Duration
	Logger     *slog.Logger
	// Unread supplies unread_notifications; nil leaves them out.
	Unread UnreadSource
	// Backfill fetches a room's history from other servers when
	// /messages reaches the start of what we have; nil never does.
	Backfill Backfiller
}

// Backfiller fetches and stores the history before a room's earliest
// known event; it reports whether the caller should read again.
type Backfiller interface {
	Backfill(ctx context.Context, roomID spec.RoomID, user spec.UserID) bool
}

// Syncer answers /sync requests.
type Syncer struct {
	opts  Options
	st    *store.Store
	state *store.StateCache
	log   *slog.Logger
	// shared are the reads woken requests share (shared.go).
	shared *shared
	// filters caches parsed stored filters (filters.go).
	filters *filterCache
	// conns are the sliding sync connections (sliding_conn.go).
	conns *connections
}

// New builds a Syncer.
func New(opts Options) (*Syncer, error) {
	if opts.Rooms == nil || opts.Store == nil || opts.Streams == nil || opts.Notifier == nil || opts.Format == nil {
		return nil, errors.New("sync: Rooms, Store, Streams, Notifier and Format are required")
	}
	if opts.MaxTimeout <= 0 {
		opts.MaxTimeout = 5 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Syncer{opts: opts, st: opts.Store, state: store.NewStateCache(4096), log: opts.Logger,
		shared: newShared(), filters: newFilterCache(filterCacheEntries, filterCacheBytes), conns: newConnections()}, nil
}

// Request is one /sync call, parsed and authorized.
type Request struct {
	UserID   string
	DeviceID string
	// Since is nil for an initial sync.
	Since     *Token
	Timeout   time.Duration
	FullState bool
	Filter    *Filter
}

// Sync answers a /sync request: it returns at once when there is something
// new (or for an initial or full-state sync), otherwise it parks on the
// notifier until something concerning the user is readable or the timeout
// passes.
//
// Memory at rest (issue 4, 10,000 idle polls): the parked goroutine's
// stack is every frame from net/http down to here, and the runtime halves
// a stack at GC only while under a quarter of it is in use. So this frame
// stays small (the poll's state lives in a heap-allocated poll, the work
// in non-inlined callees that return before parking): parked stacks
// shrink from 16 KB to 8 KB.
func (s *Syncer) Sync(ctx context.Context, req Request) (*Response, error) {
	p, err := s.startPoll(req)
	if err != nil {
		return nil, err
	}
	defer p.close()
	for {
		resp, done, err := s.step(ctx, p)
		if done || err != nil {
			return resp, err
		}
		if !s.wait(ctx, p.sub, p.timer) || !s.rearm(ctx, p) {
			return resp, nil
		}
	}
}

// poll is one /sync request's state across its builds and waits.
type poll struct {
	req        Request
	sub        *Subscription
	since, now Token
	timeout    time.Duration
	timer      *time.Timer
	// filled lets a rebuild after a wake-up reuse what the extension
	// sources filled while their streams did not move (shared.go's idea
	// for side streams).
	filled extFills
}

// startPoll subscribes, then reads the positions: a change landing between
// the read and the wait still wakes the request.
//
//go:noinline
func (s *Syncer) startPoll(req Request) (*poll, error) {
	p := &poll{req: req, sub: s.opts.Notifier.Subscribe(req.UserID), filled: extFills{}}
	p.now = s.opts.Streams.Current()
	if req.Since != nil {
		var err error
		if p.since, err = s.opts.Streams.Check(*req.Since, p.now); err != nil {
			p.sub.Close()
			return nil, err
		}
	}
	p.timeout = min(max(req.Timeout, 0), s.opts.MaxTimeout)
	p.timer = time.NewTimer(p.timeout)
	return p, nil
}

func (p *poll) close() {
	p.timer.Stop()
	p.sub.Close()
}

// step builds the response for (since, now]; done means answer with it
// now rather than wait.
//
//go:noinline
func (s *Syncer) step(ctx context.Context, p *poll) (*Response, bool, error) {
	resp, err := s.build(ctx, p.req, p.since, p.now, p.filled)
	if err != nil {
		return nil, true, err
	}
	done := p.req.Since == nil || p.req.FullState || resp.changed || p.timeout == 0
	return resp, done, nil
}

// rearm follows a wake-up: it waits until the stream is readable up to
// what the user was notified of and moves now there; false when the wait
// ran out (answer with the empty response).
//
//go:noinline
func (s *Syncer) rearm(ctx context.Context, p *poll) bool {
	pos := p.sub.Rearm()
	waitCtx, cancel := context.WithTimeout(ctx, p.timeout)
	err := WaitFor(waitCtx, s.opts.Streams.Events, pos)
	cancel()
	if err != nil {
		return false
	}
	p.now = s.opts.Streams.Current()
	return true
}

// build assembles everything in (since, now] for the request; since is the
// zero token on an initial sync.
func (s *Syncer) build(ctx context.Context, req Request, since, now Token, filled extFills) (*Response, error) {
	resp := &Response{NextBatch: now.String(), next: now}
	b := &builder{s: s, req: req, since: since, now: now, resp: resp, initial: req.Since == nil, filled: filled}
	b.waitUnread(ctx)
	if err := b.accountData(ctx); err != nil {
		return nil, err
	}
	if err := b.defaultPushRules(ctx); err != nil {
		return nil, err
	}
	if err := b.rooms(ctx); err != nil {
		return nil, err
	}
	if err := b.extensions(ctx); err != nil {
		return nil, err
	}
	return resp, nil
}

// extensions lets the e2ee sources fill their sections.
func (b *builder) extensions(ctx context.Context) error {
	for _, src := range b.s.opts.Streams.Extensions {
		id := src.Stream()
		if f, ok := b.filled[id]; ok && f.upto == b.now[id] {
			b.applyExtensions(f.ext)
			continue
		}
		var ext Extensions
		q := ExtensionQuery{UserID: b.req.UserID, DeviceID: b.req.DeviceID, Since: b.since[id], Upto: b.now[id], Initial: b.initial}
		if err := src.Fill(ctx, q, &ext); err != nil {
			return err
		}
		if b.filled != nil {
			b.filled[id] = extFill{upto: b.now[id], ext: ext}
		}
		b.applyExtensions(ext)
	}
	return nil
}

// applyExtensions puts one source's sections into the response.
func (b *builder) applyExtensions(ext Extensions) {
	r := b.resp
	if len(ext.ToDevice) > 0 {
		r.ToDevice = &RawEvents{Events: ext.ToDevice}
		r.changed = true
	}
	if len(ext.Presence) > 0 {
		r.Presence = &RawEvents{Events: ext.Presence}
		r.changed = true
	}
	if len(ext.DeviceListsChanged)+len(ext.DeviceListsLeft) > 0 {
		r.DeviceLists = &DeviceLists{Changed: ext.DeviceListsChanged, Left: ext.DeviceListsLeft}
		r.changed = true
	}
	if ext.OneTimeKeysCount != nil {
		r.DeviceOneTimeKeysCount = ext.OneTimeKeysCount
	}
	if ext.UnusedFallbackKeyTypes != nil {
		types := ext.UnusedFallbackKeyTypes
		r.DeviceUnusedFallbackKeyTypes = &types
	}
}

// wait blocks until the user is woken (true), the timeout passes or the
// client goes away (false).
func (s *Syncer) wait(ctx context.Context, sub *Subscription, timer *time.Timer) bool {
	n := s.opts.Notifier
	n.waiting.Add(1)
	defer n.waiting.Add(-1)
	select {
	case <-sub.C():
		return true
	case <-timer.C:
		return false
	case <-ctx.Done():
		return false
	}
}
