package keys

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/store"
)

// Transport makes the unauthenticated key API requests of the ring
// (fedclient implements it; the consumer owns the interface).
type Transport interface {
	// KeyRequest sends method path (with body, if not nil) to server and
	// returns the body of a 200 response.
	KeyRequest(ctx context.Context, server, method, path string, body []byte) ([]byte, error)
}

// Notary is a server trusted to vouch for other servers' keys
// ("Querying Keys Through Another Server"). If Keys is empty the notary's own
// keys are fetched directly.
type Notary struct {
	ServerName string
	Keys       map[string]ed25519.PublicKey
}

// RingOptions configures a Ring.
type RingOptions struct {
	Store     *store.Store
	Transport Transport
	// ServerName and Key are ours: our own keys are answered locally.
	ServerName string
	Key        *SigningKey
	Old        []OldKey
	// Notaries are asked, in order, when a direct fetch fails.
	Notaries []Notary
	// RefetchInterval bounds how often one server's keys are fetched again
	// after a miss (default one minute): a flood of events naming unknown
	// keys must not become a flood of requests.
	RefetchInterval time.Duration
	Now             func() time.Time
	Logger          *slog.Logger
}

// maxValidity caps valid_until_ts: rooms/fragments/v5-signing-requirements
// says to use the lesser of valid_until_ts and 7 days into the future.
const maxValidity = 7 * 24 * time.Hour

// Ring fetches, caches and verifies remote servers' signing keys.
type Ring struct {
	opts RingOptions
	log  *slog.Logger

	mu      sync.Mutex
	cache   map[string]map[string]models.ServerKey // server -> key ID -> key
	tried   map[string]time.Time                   // server -> last fetch attempt
	flights map[string]*flight
}

type flight struct {
	done chan struct{}
	err  error
}

// NewRing makes a key ring.
func NewRing(opts RingOptions) *Ring {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.RefetchInterval <= 0 {
		opts.RefetchInterval = time.Minute
	}
	return &Ring{opts: opts, log: opts.Logger, cache: map[string]map[string]models.ServerKey{},
		tried: map[string]time.Time{}, flights: map[string]*flight{}}
}

// ErrKeyNotFound: the server does not publish (or no longer vouches for) the key.
var ErrKeyNotFound = errors.New("server key not found")

// VerifyKey returns serverName's key keyID, valid at validAt (milliseconds;
// 0 means at any time). Unknown or expired keys are fetched again, at most
// once per RefetchInterval per server.
func (r *Ring) VerifyKey(ctx context.Context, serverName, keyID string, validAt int64) (ed25519.PublicKey, error) {
	if serverName == r.opts.ServerName {
		return r.ownKey(keyID, validAt)
	}
	if k, ok := r.cached(ctx, serverName, keyID); ok && validFor(k, validAt) {
		return decodeKey(k)
	}
	if err := r.fetch(ctx, serverName); err != nil {
		return nil, err
	}
	if k, ok := r.cached(ctx, serverName, keyID); ok && validFor(k, validAt) {
		return decodeKey(k)
	}
	return nil, fmt.Errorf("%w: %s %s valid at %d", ErrKeyNotFound, serverName, keyID, validAt)
}

// Lookup adapts the ring to event.VerifySignatures within ctx.
func (r *Ring) Lookup(ctx context.Context) event.KeyLookup {
	return func(serverName, keyID string, validAt int64) ed25519.PublicKey {
		k, err := r.VerifyKey(ctx, serverName, keyID, validAt)
		if err != nil {
			r.log.Debug("server key lookup", "server", serverName, "key", keyID, "err", err)
			return nil
		}
		return k
	}
}

func (r *Ring) ownKey(keyID string, validAt int64) (ed25519.PublicKey, error) {
	if keyID == r.opts.Key.ID {
		return r.opts.Key.Public(), nil
	}
	for _, o := range r.opts.Old {
		if o.ID == keyID && (validAt == 0 || validAt < o.ExpiredTS) {
			return o.Public, nil
		}
	}
	return nil, fmt.Errorf("%w: our own key %s", ErrKeyNotFound, keyID)
}

// validFor: a current key is valid until valid_until_ts, an old key until
// its expired_ts ("Publishing Keys": old keys are valid only before it).
func validFor(k models.ServerKey, at int64) bool {
	if at == 0 {
		return true
	}
	if k.ExpiredTS != 0 {
		return at < k.ExpiredTS
	}
	return at <= k.ValidUntilTS
}

func decodeKey(k models.ServerKey) (ed25519.PublicKey, error) {
	b, err := base64.RawStdEncoding.DecodeString(k.PublicKey)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("cached key %s of %s is malformed", k.KeyID, k.ServerName)
	}
	return b, nil
}

// cached looks in memory, then in the database.
func (r *Ring) cached(ctx context.Context, serverName, keyID string) (models.ServerKey, bool) {
	r.mu.Lock()
	keys, ok := r.cache[serverName]
	k, found := keys[keyID]
	r.mu.Unlock()
	if ok {
		return k, found
	}
	rows, err := r.opts.Store.ServerKeys(ctx, serverName)
	if err != nil {
		r.log.Warn("load cached server keys", "server", serverName, "err", err)
		return models.ServerKey{}, false
	}
	r.remember(serverName, rows)
	for _, k := range rows {
		if k.KeyID == keyID {
			return k, true
		}
	}
	return models.ServerKey{}, false
}

// remember merges keys into the memory cache.
func (r *Ring) remember(serverName string, keys []models.ServerKey) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.cache[serverName]
	if m == nil {
		m = map[string]models.ServerKey{}
		r.cache[serverName] = m
	}
	for _, k := range keys {
		m[k.KeyID] = k
	}
}

// fetch refreshes serverName's keys, one request in flight per server.
func (r *Ring) fetch(ctx context.Context, serverName string) error {
	r.mu.Lock()
	if f, ok := r.flights[serverName]; ok {
		r.mu.Unlock()
		select {
		case <-f.done:
			return f.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	now := r.opts.Now()
	if t, ok := r.tried[serverName]; ok && now.Sub(t) < r.opts.RefetchInterval {
		r.mu.Unlock()
		return fmt.Errorf("%w: %s was asked recently", ErrKeyNotFound, serverName)
	}
	r.tried[serverName] = now
	f := &flight{done: make(chan struct{})}
	r.flights[serverName] = f
	r.mu.Unlock()

	f.err = r.fetchNow(ctx, serverName)
	r.mu.Lock()
	delete(r.flights, serverName)
	r.mu.Unlock()
	close(f.done)
	return f.err
}

func (r *Ring) fetchNow(ctx context.Context, serverName string) error {
	body, err := r.opts.Transport.KeyRequest(ctx, serverName, "GET", "/_matrix/key/v2/server", nil)
	if err == nil {
		err = r.accept(ctx, serverName, body)
		if err == nil {
			return nil
		}
	}
	r.log.Info("direct key fetch failed", "server", serverName, "err", err)
	for _, n := range r.opts.Notaries {
		nerr := r.fetchViaNotary(ctx, n, serverName)
		if nerr == nil {
			return nil
		}
		r.log.Info("notary key fetch failed", "server", serverName, "notary", n.ServerName, "err", nerr)
	}
	return fmt.Errorf("fetch keys of %s: %w", serverName, err)
}

// accept verifies a key response of serverName and stores its keys.
func (r *Ring) accept(ctx context.Context, serverName string, body []byte) error {
	keys, err := ParseResponse(serverName, body, r.opts.Now())
	if err != nil {
		return err
	}
	if err := r.opts.Store.SaveServerKeys(ctx, keys); err != nil {
		return err
	}
	r.remember(serverName, keys)
	return nil
}

// keyResponse is the part of a key response the ring reads.
type keyResponse struct {
	ServerName    string                  `json:"server_name"`
	VerifyKeys    map[string]VerifyKey    `json:"verify_keys"`
	OldVerifyKeys map[string]OldVerifyKey `json:"old_verify_keys"`
	ValidUntilTS  int64                   `json:"valid_until_ts"`
}
