package spaces

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"
)

// Defaults of the remote answer cache. Synapse keeps other servers'
// hierarchy answers for 5 minutes, at most 1000 of them
// (FederationClient.get_room_hierarchy); a failure is remembered only
// briefly so a server that was down is asked again soon.
const (
	defaultCacheTTL         = 5 * time.Minute
	defaultNegativeCacheTTL = time.Minute
	defaultCacheSize        = 1000
)

// cacheKey is what a federation /hierarchy answer depends on: the room and
// suggested_only (server-server-api "Spaces"); the requesting user does
// not matter, the walk filters per user.
type cacheKey struct {
	roomID        string
	suggestedOnly bool
}

// cacheEntry is an answer, or the failure of every via server asked.
type cacheEntry struct {
	ans     *fedAnswer
	err     error
	via     string // for failures: the servers that failed
	expires time.Time
}

// remoteCache keeps other servers' hierarchy answers so that paging
// through a space (each page walks the tree again from its root) asks
// them once per TTL, and page offsets stay stable across pages. Only
// remote answers are kept: local rooms are read fresh on every walk.
type remoteCache struct {
	ttl, negTTL time.Duration
	size        int
	now         func() time.Time

	mu      sync.Mutex
	entries map[cacheKey]cacheEntry
}

func newRemoteCache(opts Options) *remoteCache {
	c := &remoteCache{ttl: opts.CacheTTL, negTTL: opts.NegativeCacheTTL, size: opts.CacheSize, now: opts.Now,
		entries: map[cacheKey]cacheEntry{}}
	if c.ttl == 0 {
		c.ttl = defaultCacheTTL
	}
	if c.negTTL == 0 {
		c.negTTL = defaultNegativeCacheTTL
	}
	if c.size <= 0 {
		c.size = defaultCacheSize
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}

// viaKey names a via list for failure entries: a failure with some servers
// says nothing about others.
func viaKey(via []string) string {
	v := slices.Clone(via)
	slices.Sort(v)
	return strings.Join(v, "\x00")
}

// get returns the live answer or remembered failure for key; ok is false
// when the servers must be asked.
func (c *remoteCache) get(key cacheKey, via []string) (*fedAnswer, error, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || !c.now().Before(e.expires) {
		return nil, nil, false
	}
	if e.err != nil && e.via != viaKey(via) {
		return nil, nil, false
	}
	return e.ans, e.err, true
}

// put remembers an answer for the TTL or a failure for the negative TTL
// (a negative TTL below zero: failures are not remembered). A cancelled or
// timed-out request says nothing about the servers and is not kept.
func (c *remoteCache) put(key cacheKey, via []string, ans *fedAnswer, err error) {
	ttl := c.ttl
	e := cacheEntry{ans: ans, err: err}
	if err != nil {
		if c.negTTL < 0 || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return
		}
		ttl, e.via = c.negTTL, viaKey(via)
	}
	if ttl < 0 {
		return
	}
	now := c.now()
	e.expires = now.Add(ttl)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; !ok && len(c.entries) >= c.size {
		c.evict(now)
	}
	c.entries[key] = e
}

// evict drops the expired entries, or else the one expiring first (caller
// holds mu; runs only when the cache is full).
func (c *remoteCache) evict(now time.Time) {
	var first cacheKey
	var firstExp time.Time
	for k, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, k)
			continue
		}
		if firstExp.IsZero() || e.expires.Before(firstExp) {
			first, firstExp = k, e.expires
		}
	}
	if len(c.entries) >= c.size {
		delete(c.entries, first)
	}
}
