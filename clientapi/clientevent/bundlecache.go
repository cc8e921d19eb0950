package clientevent

import (
	"context"
	"strconv"
	"strings"
	"sync"

	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/store"
)

// bundleData is what the aggregations of a page of events need from the
// store, the same for every viewer: thread summaries and the m.replace and
// m.reference rows.
type bundleData struct {
	threads map[string]store.ThreadSummary
	rels    []models.EventRelation
}

// BundleCache shares bundleData between the requests that format the same
// events at the same stream position: the thousand /sync requests woken by
// one message ask for the aggregations of that message once. The key
// includes the readable stream position, and a relation is indexed in the
// transaction of its event, so a new child (a new position) is never
// missed. A nil *BundleCache reads every time.
type BundleCache struct {
	mu      sync.Mutex
	entries map[string]*bundleEntry
	order   []string
}

type bundleEntry struct {
	done chan struct{}
	data *bundleData
	err  error
}

// bundleCacheSize bounds the entries (pages recently formatted).
const bundleCacheSize = 1024

// NewBundleCache returns an empty cache.
func NewBundleCache() *BundleCache { return &BundleCache{entries: map[string]*bundleEntry{}} }

func (c *BundleCache) get(ctx context.Context, rs *rooms.Service, ids []string) (*bundleData, error) {
	if c == nil {
		return loadBundle(ctx, rs.Store(), ids)
	}
	key := strconv.FormatInt(rs.Stream().Current(), 10) + "|" + strings.Join(ids, ",")
	c.mu.Lock()
	if e, ok := c.entries[key]; ok {
		c.mu.Unlock()
		select {
		case <-e.done:
			return e.data, e.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	e := &bundleEntry{done: make(chan struct{})}
	c.entries[key] = e
	c.order = append(c.order, key)
	if len(c.order) > bundleCacheSize {
		delete(c.entries, c.order[0])
		c.order = c.order[1:]
	}
	c.mu.Unlock()
	e.data, e.err = loadBundle(context.WithoutCancel(ctx), rs.Store(), ids)
	close(e.done)
	if e.err != nil {
		c.mu.Lock()
		if c.entries[key] == e {
			delete(c.entries, key)
		}
		c.mu.Unlock()
	}
	return e.data, e.err
}

func loadBundle(ctx context.Context, st *store.Store, ids []string) (*bundleData, error) {
	threads, err := st.ThreadSummaries(ctx, ids)
	if err != nil {
		return nil, err
	}
	rels, err := st.RelationRows(ctx, ids, []string{"m.replace", "m.reference"})
	if err != nil {
		return nil, err
	}
	return &bundleData{threads: threads, rels: rels}, nil
}
