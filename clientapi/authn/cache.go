package authn

import (
	"sync"
	"sync/atomic"
)

// Session is who an access token belongs to.
type Session struct {
	UserID   string
	DeviceID string
	IsAdmin  bool
	// ExpiresAt is ms since the epoch, 0 for never.
	ExpiresAt int64
	// HasRefresh tells an expired token's client it may refresh (soft logout).
	HasRefresh bool
	// TokenHash identifies the token (never the token itself).
	TokenHash string
}

// tokenCache maps token hash -> Session so most requests do not touch the
// database. It is bounded; revocation drops a user's or a device's entries
// through an index by user and device, so it costs the entries it drops,
// not the size of the cache. epoch guards against a race where a lookup
// that started before a revocation writes a stale entry after it.
type tokenCache struct {
	mu      sync.Mutex
	entries map[string]Session
	// byUser indexes entries: user -> device -> token hashes.
	byUser map[string]map[string]map[string]struct{}
	max    int
	epoch  atomic.Uint64
}

func newTokenCache(max int) *tokenCache {
	if max < 1 {
		max = 10000
	}
	return &tokenCache{entries: make(map[string]Session), byUser: map[string]map[string]map[string]struct{}{}, max: max}
}

func (c *tokenCache) get(hash string) (Session, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.entries[hash]
	return s, ok
}

// put stores s unless a revocation happened since epoch was read.
func (c *tokenCache) put(epoch uint64, s Session) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch.Load() != epoch {
		return
	}
	if old, ok := c.entries[s.TokenHash]; ok {
		c.remove(old)
	} else if len(c.entries) >= c.max {
		// Evict an arbitrary entry (map order is randomised).
		for _, victim := range c.entries {
			c.remove(victim)
			break
		}
	}
	c.entries[s.TokenHash] = s
	devices := c.byUser[s.UserID]
	if devices == nil {
		devices = map[string]map[string]struct{}{}
		c.byUser[s.UserID] = devices
	}
	hashes := devices[s.DeviceID]
	if hashes == nil {
		hashes = map[string]struct{}{}
		devices[s.DeviceID] = hashes
	}
	hashes[s.TokenHash] = struct{}{}
}

// remove drops one entry and its index entry (caller holds mu).
func (c *tokenCache) remove(s Session) {
	delete(c.entries, s.TokenHash)
	devices := c.byUser[s.UserID]
	delete(devices[s.DeviceID], s.TokenHash)
	if len(devices[s.DeviceID]) == 0 {
		delete(devices, s.DeviceID)
	}
	if len(devices) == 0 {
		delete(c.byUser, s.UserID)
	}
}

// invalidateUser drops every cached token of userID and bumps epoch, so a
// lookup that read the database before this cannot put a revoked token
// back.
func (c *tokenCache) invalidateUser(userID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch.Add(1)
	for _, hashes := range c.byUser[userID] {
		for h := range hashes {
			delete(c.entries, h)
		}
	}
	delete(c.byUser, userID)
}

// invalidateDevice drops the cached tokens of one device (and bumps epoch
// like invalidateUser).
func (c *tokenCache) invalidateDevice(userID, deviceID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch.Add(1)
	devices := c.byUser[userID]
	for h := range devices[deviceID] {
		delete(c.entries, h)
	}
	delete(devices, deviceID)
	if len(devices) == 0 {
		delete(c.byUser, userID)
	}
}

func (c *tokenCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
