package appservice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/kabarchat/kabar/federation/rooms/streampos"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
)

// Store is what the service needs from storage; *store.Store satisfies it
// (checked in server).
type Store interface {
	WorkerPosition(ctx context.Context, name string) (int64, error)
	SetWorkerPosition(ctx context.Context, name string, pos int64) error
	StreamEventsBetween(ctx context.Context, from, to int64, limit int) ([]models.Event, error)
	JoinedMembersSince(ctx context.Context, roomID string) (map[string]int64, error)
	ReceiptsBetween(ctx context.Context, from, to int64, limit int) ([]models.Receipt, error)
	UsersSharingRoomWith(ctx context.Context, userID string) ([]string, error)
	RoomAliases(ctx context.Context, roomID string) ([]string, error)
	UserExists(ctx context.Context, userID string) (bool, error)
	Alias(ctx context.Context, alias string) (models.RoomAlias, error)
}

// Options configures the Service.
type Options struct {
	Registry *Registry
	Store    Store
	// Events is the room service's stream; the senders read up to its
	// readable position.
	Events *streampos.Allocator
	// Kick is the doorbell the room service rings, and typing and
	// presence changes too.
	Kick *Kick
	// Ephemeral feeds the services registered with receive_ephemeral;
	// nil sends them none.
	Ephemeral *EphemeralSources
	// Format turns stored events into the ClientEvents a transaction
	// carries (same order and length).
	Format func(ctx context.Context, rows []models.Event) ([]any, error)
	// CreateUser makes a local account for a user the service confirmed
	// (user query) or its sender; an existing account is not an error.
	CreateUser func(ctx context.Context, id spec.UserID) error
	// Client reaches the services. They are configured by the operator
	// and usually on loopback, so it is not address-guarded.
	Client *http.Client
	// RetryBase and RetryMax bound the exponential backoff while a
	// service does not accept a transaction.
	RetryBase time.Duration
	RetryMax  time.Duration
	Logger    *slog.Logger
}

// Service pushes events to the application services and sends them
// queries.
type Service struct {
	opts    Options
	log     *slog.Logger
	senders []*sender
}

// New builds the service; Run delivers transactions.
func New(opts Options) (*Service, error) {
	if opts.Registry == nil || opts.Store == nil || opts.Events == nil || opts.Kick == nil || opts.Format == nil || opts.CreateUser == nil {
		return nil, errors.New("appservice: Registry, Store, Events, Kick, Format and CreateUser are required")
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 60 * time.Second}
	}
	if opts.RetryBase <= 0 {
		opts.RetryBase = 500 * time.Millisecond
	}
	if opts.RetryMax <= 0 {
		opts.RetryMax = 5 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{opts: opts, log: opts.Logger}
	for _, reg := range opts.Registry.All() {
		if reg.BaseURL() != "" {
			s.senders = append(s.senders, newSender(s, reg))
		}
	}
	return s, nil
}

// Registry is the registered services.
func (s *Service) Registry() *Registry { return s.opts.Registry }

// Kick is the senders' doorbell. It implements rooms.Notifier (server fans
// the room notifications out to it) and only signals, so the room writer
// never waits on a service. Every sender wakes: the channel handed out by
// wait is closed and replaced.
type Kick struct {
	mu sync.Mutex
	ch chan struct{}
}

// NewKick returns a doorbell for Options.Kick.
func NewKick() *Kick { return &Kick{ch: make(chan struct{})} }

// Notify implements rooms.Notifier.
func (k *Kick) Notify(int64, []string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	close(k.ch)
	k.ch = make(chan struct{})
}

// wait is closed at the next Notify; take it before looking for work.
func (k *Kick) wait() <-chan struct{} {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.ch
}

// CreateSenders makes each service's sender_localpart user if missing;
// run it before serving, so a service may act as its sender at once.
func (s *Service) CreateSenders(ctx context.Context) error {
	for _, reg := range s.opts.Registry.All() {
		if err := s.opts.CreateUser(ctx, reg.Sender); err != nil {
			return fmt.Errorf("create sender %s of %s: %w", reg.Sender, reg, err)
		}
	}
	return nil
}

// Run delivers transactions until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	errc := make(chan error, len(s.senders))
	for _, snd := range s.senders {
		wg.Add(1)
		go func() { defer wg.Done(); errc <- snd.run(ctx) }()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil && ctx.Err() == nil {
			return err
		}
	}
	return nil
}

// QueryUser asks the service holding user exclusively whether it exists
// (query_user.yaml) and, if it answers 200, creates the account: the
// service is expected to have registered it, but a bridge that only
// answers queries still gets its user. found is false when no service
// holds the user or it does not know it.
func (s *Service) QueryUser(ctx context.Context, user spec.UserID) (found bool, err error) {
	reg := s.opts.Registry.ExclusiveUser(user)
	if reg == nil || reg.BaseURL() == "" {
		return false, nil
	}
	if err := call(ctx, s.opts.Client, reg, http.MethodGet, "/_matrix/app/v1/users/"+url.PathEscape(string(user)), nil, nil); err != nil {
		return false, s.queryErr(reg, err)
	}
	if err := s.opts.CreateUser(ctx, user); err != nil {
		return false, err
	}
	return true, nil
}

// QueryAlias asks the service holding alias exclusively for it
// (query_room.yaml); a 200 means the service created the room and alias
// meanwhile, so found reports whether the alias now exists here.
func (s *Service) QueryAlias(ctx context.Context, alias spec.RoomAlias) (found bool, err error) {
	reg := s.opts.Registry.ExclusiveAlias(alias)
	if reg == nil || reg.BaseURL() == "" {
		return false, nil
	}
	if err := call(ctx, s.opts.Client, reg, http.MethodGet, "/_matrix/app/v1/rooms/"+url.PathEscape(string(alias)), nil, nil); err != nil {
		return false, s.queryErr(reg, err)
	}
	_, err = s.opts.Store.Alias(ctx, string(alias))
	if errors.Is(err, models.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// queryErr turns a failed query into "not found": the service's 404 says
// so, and a service that is down must not break the lookup that asked.
func (s *Service) queryErr(reg *Registration, err error) error {
	var se *StatusError
	if !errors.As(err, &se) || se.Status != http.StatusNotFound {
		s.log.Warn("application service query failed", "appservice", reg.ID, "err", err)
	}
	return nil
}

// Ping pings the service (ping.yaml) with the service's client.
func (s *Service) Ping(ctx context.Context, reg *Registration, txnID string) (PingResult, error) {
	return Ping(ctx, s.opts.Client, reg, txnID)
}
