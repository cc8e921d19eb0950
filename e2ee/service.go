// Package e2ee is Kabar's key server: the server side of end-to-end
// encryption (client-server-api "End-to-End Encryption" and "Send-to-Device
// messaging", server-server-api "End-to-End Encryption"). It stores and
// hands out device, one-time, fallback and cross-signing keys, keeps the
// device-list change stream and the per-device to-device inboxes, and feeds
// /sync. The client API and the federation receiver both call it; the
// server never sees plaintext.
package e2ee

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/kabarchat/kabar/federation/rooms/streampos"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// Notifier wakes the parked /sync requests of users after a change to a
// side stream is readable.
type Notifier interface {
	Wake(userIDs ...string)
}

// Outbox durably queues EDUs for remote servers (m.direct_to_device,
// m.device_list_update, m.signing_key_update). It must not block on the
// network; an error means the EDU was not queued.
type Outbox interface {
	SendEDU(ctx context.Context, eduType string, content json.RawMessage, destinations []spec.ServerName) error
}

// Remote asks other servers for keys (server-server-api "POST
// /_matrix/federation/v1/user/keys/query" and ".../claim"). Each call
// targets one server; an error puts that server into "failures".
type Remote interface {
	QueryKeys(ctx context.Context, server spec.ServerName, deviceKeys map[string][]string) (*QueryResponse, error)
	ClaimKeys(ctx context.Context, server spec.ServerName, oneTimeKeys map[string]map[string]string) (map[string]map[string]map[string]json.RawMessage, error)
	// UserDevices fetches a remote user's whole device list
	// (server-server-api "GET /_matrix/federation/v1/user/devices/{userId}").
	UserDevices(ctx context.Context, server spec.ServerName, userID string) (*RemoteDevices, error)
}

// Options configures the service.
type Options struct {
	Store      *store.Store
	ServerName spec.ServerName
	// Events is the room service's event stream; the membership watcher
	// follows it to turn joins and departures in encrypted rooms into
	// device-list entries. Nil disables the watcher.
	Events *streampos.Allocator
	// Kick rings when the room service committed events.
	Kick     *Kick
	Notifier Notifier
	Outbox   Outbox
	Remote   Remote
	Logger   *slog.Logger
	// MaxInbox bounds each device's undelivered to-device messages.
	MaxInbox int
	// ResyncRetry is the first wait before retrying a failed device-list
	// resync (doubling up to an hour); default 30s.
	ResyncRetry time.Duration
	// RemoteCacheTTL bounds how long cached remote keys answer /keys/query
	// without asking their server, even without an update; default 1h.
	RemoteCacheTTL time.Duration
	Now            func() time.Time
}

// Service is the key server.
type Service struct {
	opts Options
	st   *store.Store
	log  *slog.Logger
	// toDevice and deviceLists are the two side streams /sync tracks.
	toDevice    *streampos.Allocator
	deviceLists *streampos.Allocator
	// resync holds remote users whose device lists had a gap, for the
	// resync worker (resync.go).
	resync *resyncQueue
}

// New builds the service; its streams continue after the stored positions.
func New(ctx context.Context, opts Options) (*Service, error) {
	if opts.Store == nil || opts.ServerName == "" {
		return nil, errors.New("e2ee: Store and ServerName are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Notifier == nil {
		opts.Notifier = NopNotifier{}
	}
	if opts.Outbox == nil {
		opts.Outbox = NopOutbox{}
	}
	if opts.Remote == nil {
		opts.Remote = NoRemote{}
	}
	if opts.MaxInbox <= 0 {
		opts.MaxInbox = 1000
	}
	if opts.ResyncRetry <= 0 {
		opts.ResyncRetry = 30 * time.Second
	}
	if opts.RemoteCacheTTL <= 0 {
		opts.RemoteCacheTTL = time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	td, err := opts.Store.ToDeviceStreamEnd(ctx)
	if err != nil {
		return nil, err
	}
	dl, err := opts.Store.DeviceListStreamEnd(ctx)
	if err != nil {
		return nil, err
	}
	return &Service{opts: opts, st: opts.Store, log: opts.Logger,
		toDevice: streampos.New(td), deviceLists: streampos.New(dl), resync: newResyncQueue()}, nil
}

// isLocal reports whether a user ID belongs to this server.
func (s *Service) isLocal(userID string) bool {
	u, err := spec.ParseUserID(userID)
	return err == nil && u.Server() == s.opts.ServerName
}

// serverOf returns the server part of a user ID ("" if malformed).
func serverOf(userID string) spec.ServerName {
	u, err := spec.ParseUserID(userID)
	if err != nil {
		return ""
	}
	return u.Server()
}

// ToDeviceStream and DeviceListStream are the allocators of the two side
// streams (their Current is what a sync token records).
func (s *Service) ToDeviceStream() *streampos.Allocator   { return s.toDevice }
func (s *Service) DeviceListStream() *streampos.Allocator { return s.deviceLists }

// NopNotifier wakes nobody.
type NopNotifier struct{}

func (NopNotifier) Wake(...string) {}

// NopOutbox drops EDUs (a server without federation).
type NopOutbox struct{}

func (NopOutbox) SendEDU(context.Context, string, json.RawMessage, []spec.ServerName) error {
	return nil
}

// NoRemote fails every remote request, so remote servers show up in
// "failures" (a server without federation).
type NoRemote struct{}

var errNoFederation = errors.New("federation is not available")

func (NoRemote) QueryKeys(context.Context, spec.ServerName, map[string][]string) (*QueryResponse, error) {
	return nil, errNoFederation
}

func (NoRemote) ClaimKeys(context.Context, spec.ServerName, map[string]map[string]string) (map[string]map[string]map[string]json.RawMessage, error) {
	return nil, errNoFederation
}

func (NoRemote) UserDevices(context.Context, spec.ServerName, string) (*RemoteDevices, error) {
	return nil, errNoFederation
}

// wrap adds context to a store error.
func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
