package sync

import (
	"container/list"
	"context"
	"errors"
	"strconv"
	"strings"
	stdsync "sync"

	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// CreateFilter validates and stores a filter (POST /user/{userId}/filter)
// and returns its ID.
func (s *Syncer) CreateFilter(ctx context.Context, userID string, body []byte) (string, error) {
	f, err := ParseFilter(body)
	if err != nil {
		return "", spec.BadJSON("%v", err)
	}
	id, err := s.st.PutFilter(ctx, userID, string(f.Raw()))
	if err != nil {
		return "", err
	}
	s.filters.put(filterKey{userID, id}, f)
	// Filter IDs may not start with '{' (filter.yaml), so they can never be
	// mistaken for inline JSON.
	return strconv.FormatInt(id, 10), nil
}

// LoadFilter resolves a stored filter ID; 404 M_NOT_FOUND if unknown,
// including another user's filter ID (the cache is keyed by user too).
func (s *Syncer) LoadFilter(ctx context.Context, userID, id string) (*Filter, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n < 0 {
		return nil, spec.NotFound("unknown filter %q", id)
	}
	key := filterKey{userID, n}
	if f, ok := s.filters.get(key); ok {
		return f, nil
	}
	raw, err := s.st.Filter(ctx, userID, n)
	if errors.Is(err, store.ErrNotFound) {
		// Not cached: the ID may be created later.
		return nil, spec.NotFound("unknown filter %q", id)
	}
	if err != nil {
		return nil, err
	}
	f, err := ParseFilter([]byte(raw))
	if err != nil {
		return nil, err
	}
	s.filters.put(key, f)
	return f, nil
}

// ResolveFilter reads /sync's filter parameter: inline JSON when it starts
// with '{' (400 M_BAD_JSON if malformed), otherwise a stored filter ID.
func (s *Syncer) ResolveFilter(ctx context.Context, userID, param string) (*Filter, error) {
	if param == "" {
		return nil, nil
	}
	if strings.HasPrefix(strings.TrimSpace(param), "{") {
		f, err := ParseFilter([]byte(param))
		if err != nil {
			return nil, spec.BadJSON("%v", err)
		}
		return f, nil
	}
	return s.LoadFilter(ctx, userID, param)
}

// Bounds of the filter cache: most clients store one small filter and
// send its ID with every /sync, but a filter may be 64 KiB, so the cache
// is bounded in bytes as well as in entries.
const (
	filterCacheEntries = 4096
	filterCacheBytes   = 16 << 20
)

type filterKey struct {
	user string
	id   int64
}

type filterEntry struct {
	key filterKey
	f   *Filter
}

// filterCache is an LRU of parsed stored filters. Stored filters never
// change (filter.yaml has no update or delete: POST always makes a new
// filter_id), so an entry is never stale and nothing invalidates it.
// Cached filters are shared between requests and must not be modified.
type filterCache struct {
	mu         stdsync.Mutex
	lru        *list.List // of *filterEntry, most recently used first
	byKey      map[filterKey]*list.Element
	bytes      int
	maxEntries int
	maxBytes   int
}

func newFilterCache(maxEntries, maxBytes int) *filterCache {
	return &filterCache{lru: list.New(), byKey: map[filterKey]*list.Element{}, maxEntries: maxEntries, maxBytes: maxBytes}
}

func (c *filterCache) get(k filterKey) (*Filter, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[k]
	if !ok {
		return nil, false
	}
	c.lru.MoveToFront(el)
	return el.Value.(*filterEntry).f, true
}

func (c *filterCache) put(k filterKey, f *Filter) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byKey[k]; ok || len(f.raw) > c.maxBytes {
		return
	}
	c.byKey[k] = c.lru.PushFront(&filterEntry{key: k, f: f})
	c.bytes += len(f.raw)
	for c.lru.Len() > c.maxEntries || c.bytes > c.maxBytes {
		e := c.lru.Remove(c.lru.Back()).(*filterEntry)
		delete(c.byKey, e.key)
		c.bytes -= len(e.f.raw)
	}
}

func (c *filterCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}
