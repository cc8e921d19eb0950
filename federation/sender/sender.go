// Package sender delivers our events to other servers: one persistent queue
// per destination in the database, one transaction in flight per
// destination, at most 50 PDUs and 100 EDUs per transaction, exponential
// backoff with jitter while a destination is down (server-server-api
// "Transactions").
package sender

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/fedclient"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// Limits of one transaction (server-server-api "Transactions").
const (
	maxPDUs = 50
	maxEDUs = 100
)

// Options configures the sender.
type Options struct {
	Store      *store.Store
	Client     *fedclient.Client
	ServerName spec.ServerName
	// MinBackoff and MaxBackoff bound the retry delay (defaults 2s and 1h).
	MinBackoff, MaxBackoff time.Duration
	// CatchUpAfter is the queue length (PDUs for one destination) beyond
	// which a recovering destination gets only each room's latest event
	// (catchup.go); default 1000.
	CatchUpAfter int
	Logger       *slog.Logger
	Now          func() time.Time
}

// Sender implements rooms.Outbox. Start it with Run.
type Sender struct {
	opts Options
	log  *slog.Logger

	mu      sync.Mutex
	runCtx  context.Context
	queues  map[spec.ServerName]*queue
	wg      sync.WaitGroup
	pending []models.QueueEntry // enqueued before Run started
}

// New builds a sender.
func New(opts Options) *Sender {
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 2 * time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = time.Hour
	}
	if opts.CatchUpAfter <= 0 {
		opts.CatchUpAfter = 1000
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Sender{opts: opts, log: opts.Logger, queues: map[spec.ServerName]*queue{}}
}

// Send queues ev for destinations. The rows are written before it returns,
// so a restart does not lose the event; delivery happens in the background.
func (s *Sender) Send(ev *event.Event, destinations []spec.ServerName) {
	now := s.opts.Now().UnixMilli()
	entries := make([]models.QueueEntry, 0, len(destinations))
	for _, d := range destinations {
		if d != s.opts.ServerName {
			entries = append(entries, models.QueueEntry{Destination: string(d), Kind: "pdu", Payload: ev.EventID(), CreatedAt: now})
		}
	}
	s.enqueue(entries)
}

// SendEDU queues an EDU (its JSON) for destinations.
func (s *Sender) SendEDU(edu []byte, destinations []spec.ServerName) {
	now := s.opts.Now().UnixMilli()
	entries := make([]models.QueueEntry, 0, len(destinations))
	for _, d := range destinations {
		if d != s.opts.ServerName {
			entries = append(entries, models.QueueEntry{Destination: string(d), Kind: "edu", Payload: string(edu), CreatedAt: now})
		}
	}
	s.enqueue(entries)
}

func (s *Sender) enqueue(entries []models.QueueEntry) {
	if len(entries) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.opts.Store.Enqueue(ctx, entries); err != nil {
		s.log.Error("enqueue federation entries", "count", len(entries), "err", err)
		return
	}
	for _, e := range entries {
		s.wake(spec.ServerName(e.Destination), false)
	}
}

// Queued wakes the queues of destinations whose rows the room writer just
// committed together with the events (rooms.Outbox).
func (s *Sender) Queued(destinations []spec.ServerName) {
	for _, d := range destinations {
		s.wake(d, false)
	}
}

// Wake retries a destination now: it just contacted us, so it is up again.
func (s *Sender) Wake(origin string) { s.wake(spec.ServerName(origin), true) }

// wake starts or pokes a destination's queue; reset also clears its backoff.
func (s *Sender) wake(dest spec.ServerName, reset bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queues[dest]
	if q == nil {
		if s.runCtx == nil || reset {
			return // Run starts queues with rows; a peer with none needs no wake-up
		}
		q = newQueue(s, dest)
		s.queues[dest] = q
		ctx := s.runCtx
		s.wg.Go(func() { q.run(ctx) })
	}
	q.poke(reset)
}

// Run starts a queue for every destination with rows left from before and
// serves until ctx ends.
func (s *Sender) Run(ctx context.Context) error {
	dests, err := s.opts.Store.QueueDestinations(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil // shut down before the queues were loaded: not a failure
		}
		return err
	}
	s.mu.Lock()
	s.runCtx = ctx
	s.mu.Unlock()
	for _, d := range dests {
		s.wake(spec.ServerName(d), false)
	}
	<-ctx.Done()
	s.mu.Lock()
	s.runCtx = nil
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}
