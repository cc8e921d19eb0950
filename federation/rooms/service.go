// Package rooms is the room service: the single writer per room. Every event
// this server creates goes through it: build -> auth -> persist -> state ->
// notify -> outbox. Each active room has one actor goroutine that serializes
// its writes and commits whatever queued up meanwhile in one transaction
// (group commit); different rooms proceed in parallel.
package rooms

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kabarchat/kabar/federation/keys"
	"github.com/kabarchat/kabar/federation/rooms/streampos"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// Notifier wakes /sync requests of the users an event concerns.
type Notifier interface {
	// Notify reports that events up to stream position pos are readable and
	// concern the given users. userIDs is shared with the room's writer:
	// Notify must neither modify nor keep it.
	Notify(pos int64, userIDs []string)
}

// Outbox is the federation sender as the room writer sees it. The writer
// stores the outbound queue rows (models.QueueEntry, kind "pdu") in the same
// transaction as the events, so an event acknowledged to a client cannot be
// lost for remote servers by a crash between commit and enqueue
// (server-server-api "Transactions": delivery is the origin's duty).
type Outbox interface {
	// Queued wakes the queues of destinations whose rows were just
	// committed. It must not block on the network: the room writer waits.
	Queued(destinations []spec.ServerName)
}

// Options configures the room service.
type Options struct {
	Store      *store.Store
	ServerName spec.ServerName
	Key        *keys.SigningKey
	// DefaultRoomVersion for createRoom without room_version ("12" if empty).
	DefaultRoomVersion string
	Notifier           Notifier
	Outbox             Outbox
	Logger             *slog.Logger
	// IdleTimeout stops a room's actor after this long without work.
	IdleTimeout time.Duration
	// MaxBatch bounds how many queued sends one transaction commits.
	MaxBatch int
	// Now is the clock (tests fix it); time.Now if nil.
	Now func() time.Time
}

// Service is the room service. Start it with Run before sending.
type Service struct {
	opts    Options
	st      *store.Store
	signer  *signer
	state   *store.StateCache
	stream  *streampos.Allocator
	nextNID atomic.Int64
	log     *slog.Logger
	// visCache maps m.room.history_visibility event NIDs to their value
	// (events are immutable; redaction keeps history_visibility).
	visCache sync.Map
	// versions maps room IDs to their *event.RoomVersion: a room's version
	// never changes (an upgrade makes a new room), and every parse of a
	// stored event needs it (each woken /sync formats its timeline).
	versions sync.Map
	// backfillMu serializes backfill writes: each takes the stream
	// positions below the lowest one (backfill.go).
	backfillMu sync.Mutex
	// parsed are recently served stored events (parsecache.go).
	parsed parseCache

	ready   chan struct{} // closed once Run accepts work
	mu      sync.Mutex
	runCtx  context.Context // nil until Run
	actors  map[string]*actor
	actorWG sync.WaitGroup
}

// ErrNotRunning is returned by writes before Run or after it stopped.
var ErrNotRunning = errors.New("room service is not running")

// New prepares the service: it reads where event NIDs and stream positions
// continue.
func New(ctx context.Context, opts Options) (*Service, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.DefaultRoomVersion == "" {
		opts.DefaultRoomVersion = "12"
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = time.Minute
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Notifier == nil {
		opts.Notifier = NopNotifier{}
	}
	if opts.Outbox == nil {
		opts.Outbox = NopOutbox{}
	}
	if opts.Key == nil || opts.Store == nil || opts.ServerName == "" {
		return nil, errors.New("rooms: Store, ServerName and Key are required")
	}
	maxNID, maxPos, err := opts.Store.MaxNIDs(ctx)
	if err != nil {
		return nil, err
	}
	s := &Service{
		opts: opts, st: opts.Store, log: opts.Logger,
		signer: &signer{server: opts.ServerName, key: opts.Key},
		state:  store.NewStateCache(4096),
		stream: streampos.New(maxPos),
		actors: map[string]*actor{},
		ready:  make(chan struct{}),
	}
	s.nextNID.Store(maxNID)
	return s, nil
}

// Stream is the global stream position allocator (for /sync and for other
// streams that share the ordering).
func (s *Service) Stream() *streampos.Allocator { return s.stream }

// Run lets actors start and, when ctx ends, waits for them to finish their
// current batch.
func (s *Service) Run(ctx context.Context) error {
	s.mu.Lock()
	s.runCtx = ctx
	s.mu.Unlock()
	close(s.ready)
	<-ctx.Done()
	s.mu.Lock()
	s.runCtx = nil
	s.mu.Unlock()
	s.actorWG.Wait()
	return nil
}

// Ready is closed once Run accepts work (the server waits for it before it
// serves requests).
func (s *Service) Ready() <-chan struct{} { return s.ready }

// submit hands a request to the room's actor, starting it if needed, and
// waits for the outcome.
func (s *Service) submit(ctx context.Context, roomID string, req *request) (*result, error) {
	req.done = make(chan *result, 1)
	if err := s.enqueue(roomID, req); err != nil {
		return nil, err
	}
	select {
	case res := <-req.done:
		return res, res.err
	case <-ctx.Done():
		// The actor still finishes the request; the caller just stops waiting.
		return nil, fmt.Errorf("wait for room %s: %w", roomID, ctx.Err())
	}
}

// NopNotifier wakes nobody.
type NopNotifier struct{}

func (NopNotifier) Notify(int64, []string) {}

// NopOutbox wakes nothing (no federation sender running).
type NopOutbox struct{}

func (NopOutbox) Queued([]spec.ServerName) {}
