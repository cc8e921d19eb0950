package authn

import (
	"fmt"
	"testing"
)

// fillCache gives c users*devices entries, two tokens per device.
func fillCache(c *tokenCache, users, devices int) {
	for u := range users {
		for d := range devices {
			for t := range 2 {
				c.put(c.epoch.Load(), Session{UserID: fmt.Sprintf("@u%d:x", u), DeviceID: fmt.Sprintf("D%d", d),
					TokenHash: fmt.Sprintf("h%d-%d-%d", u, d, t)})
			}
		}
	}
}

// indexed counts the hashes in the user/device index; it must always equal
// the number of entries.
func (c *tokenCache) indexed() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, devices := range c.byUser {
		for _, hashes := range devices {
			for h := range hashes {
				if _, ok := c.entries[h]; !ok {
					panic("index names a dropped entry " + h)
				}
				n++
			}
		}
	}
	return n
}

// TestTokenCacheInvalidation: dropping one device keeps the user's other
// devices and other users' devices of the same ID; dropping a user keeps
// everyone else; a lookup begun before a revocation cannot re-cache.
func TestTokenCacheInvalidation(t *testing.T) {
	c := newTokenCache(100)
	fillCache(c, 3, 2) // @u0..@u2 with D0, D1, two tokens each
	has := func(u, d, tok int) bool {
		_, ok := c.get(fmt.Sprintf("h%d-%d-%d", u, d, tok))
		return ok
	}
	stale := c.epoch.Load()
	c.invalidateDevice("@u1:x", "D0")
	if has(1, 0, 0) || has(1, 0, 1) {
		t.Error("the invalidated device's tokens are still cached")
	}
	if !has(1, 1, 0) || !has(1, 1, 1) || !has(0, 0, 0) || !has(2, 0, 1) {
		t.Error("invalidating one device dropped other devices' tokens")
	}
	c.put(stale, Session{UserID: "@u1:x", DeviceID: "D0", TokenHash: "h1-0-0"})
	if has(1, 0, 0) {
		t.Error("a lookup started before the revocation re-cached its token")
	}
	c.invalidateUser("@u0:x")
	if has(0, 0, 0) || has(0, 1, 1) || !has(1, 1, 0) || !has(2, 1, 1) {
		t.Error("invalidateUser dropped the wrong entries")
	}
	c.invalidateDevice("@nobody:x", "D0") // unknown user and device: no-op
	c.invalidateUser("@nobody:x")
	if c.len() != 6 || c.indexed() != 6 {
		t.Errorf("%d entries, %d indexed, want 6", c.len(), c.indexed())
	}
	c.invalidateDevice("@u1:x", "D1")
	if _, ok := c.byUser["@u1:x"]; ok {
		t.Error("index keeps a user without entries")
	}
}

// TestTokenCacheBound: eviction at the bound keeps the index in step.
func TestTokenCacheBound(t *testing.T) {
	c := newTokenCache(50)
	fillCache(c, 40, 3)
	if c.len() != 50 || c.indexed() != 50 {
		t.Fatalf("%d entries, %d indexed, want 50", c.len(), c.indexed())
	}
	for u := range 40 {
		c.invalidateUser(fmt.Sprintf("@u%d:x", u))
	}
	if c.len() != 0 || len(c.byUser) != 0 {
		t.Errorf("%d entries, %d users left", c.len(), len(c.byUser))
	}
}

// benchSession is the first token of one of fillCache(c, 1000, 5)'s devices.
func benchSession(i int) Session {
	return Session{UserID: fmt.Sprintf("@u%d:x", i%1000), DeviceID: fmt.Sprintf("D%d", i%5),
		TokenHash: fmt.Sprintf("h%d-%d-0", i%1000, i%5)}
}

// BenchmarkInvalidateDevice: a login re-keying one device of a full cache
// (10,000 entries), then that device's token cached again.
func BenchmarkInvalidateDevice(b *testing.B) {
	c := newTokenCache(10000)
	fillCache(c, 1000, 5)
	for i := 0; b.Loop(); i++ {
		s := benchSession(i)
		c.invalidateDevice(s.UserID, s.DeviceID)
		c.put(c.epoch.Load(), s)
	}
}

// BenchmarkCacheLookup is the limit of BenchmarkInvalidateDevice: a lookup
// and a put on the same full cache, with the same key formatting.
func BenchmarkCacheLookup(b *testing.B) {
	c := newTokenCache(10000)
	fillCache(c, 1000, 5)
	for i := 0; b.Loop(); i++ {
		s := benchSession(i)
		c.get(s.TokenHash)
		c.put(c.epoch.Load(), s)
	}
}
