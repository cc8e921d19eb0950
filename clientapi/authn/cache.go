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
// database. It is bounded; revocation drops a user's entries. epoch guards
// against a race where a lookup that started before a revocation writes a
// stale entry after it.
type tokenCache struct {
	mu      sync.Mutex
	entries map[string]Session
	max     int
	epoch   atomic.Uint64
}

func newTokenCache(max int) *tokenCache {
	if max < 1 {
		max = 10000
	}
	return &tokenCache{entries: make(map[string]Session), max: max}
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
	if len(c.entries) >= c.max {
		// Evict an arbitrary entry (map order is randomised).
		for k := range c.entries {
			delete(c.entries, k)
			break
		}
	}
	c.entries[s.TokenHash] = s
}

// invalidateUser drops every cached token of userID. Revocations are rare
// compared to lookups, so a scan is fine.
func (c *tokenCache) invalidateUser(userID string) {
	c.invalidate(func(s Session) bool { return s.UserID == userID })
}

// invalidateDevice drops the cached tokens of one device.
func (c *tokenCache) invalidateDevice(userID, deviceID string) {
	c.invalidate(func(s Session) bool { return s.UserID == userID && s.DeviceID == deviceID })
}

// invalidate drops the matching entries and bumps epoch, so a lookup that
// read the database before this cannot put a revoked token back.
func (c *tokenCache) invalidate(match func(Session) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch.Add(1)
	for k, s := range c.entries {
		if match(s) {
			delete(c.entries, k)
		}
	}
}

func (c *tokenCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
