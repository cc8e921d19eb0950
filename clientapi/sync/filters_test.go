package sync

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// benchFilter is the shape of a typical client's stored /sync filter.
const benchFilter = `{"room":{"state":{"lazy_load_members":true,"types":["m.room.*"]},` +
	`"timeline":{"limit":20,"lazy_load_members":true,"unread_thread_notifications":true,"not_types":["m.call.*"]},` +
	`"ephemeral":{"types":["m.receipt","m.typing"]},"account_data":{"not_types":["im.vector.*"]}},` +
	`"presence":{"types":["m.presence"]},"account_data":{"not_types":["im.vector.*"]},"event_format":"client"}`

// filterSyncer is a Syncer with only what the filter calls use.
func filterSyncer(st *store.Store) *Syncer {
	return &Syncer{st: st, filters: newFilterCache(filterCacheEntries, filterCacheBytes)}
}

// TestStoredFilters: a stored filter loads from the cache after its first
// use (and right after creation); a filter ID belongs to its user, so
// another user's ID, like any unknown or malformed one, is 404 M_NOT_FOUND
// whether or not the owner's filter is cached.
func TestStoredFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		s := filterSyncer(st)
		id, err := s.CreateFilter(ctx, "@alice:x", []byte(benchFilter))
		if err != nil {
			t.Fatal(err)
		}
		first, err := s.LoadFilter(ctx, "@alice:x", id)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := s.ResolveFilter(ctx, "@alice:x", id); err != nil || again != first {
			t.Fatalf("second load: %p %v, want the cached %p", again, err, first)
		}
		if string(first.Raw()) != benchFilter || first.RoomPart().TimelineFilter().LimitOr(0) != 20 {
			t.Fatalf("loaded %s", first.Raw())
		}
		// A restart (an empty cache) reads the same filter from the store.
		fresh, err := filterSyncer(st).LoadFilter(ctx, "@alice:x", id)
		if err != nil || string(fresh.Raw()) != benchFilter {
			t.Fatalf("uncached load: %v %v", fresh, err)
		}
		bobs, err := s.CreateFilter(ctx, "@bob:x", []byte(`{"room":{"timeline":{"limit":1}}}`))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ user, id string }{
			{"@bob:x", "1"}, // alice has a filter 1 (cached), bob only 0
			{"@carol:x", id},
			{"@alice:x", "7"},
			{"@alice:x", "-1"},
			{"@alice:x", "abc"},
			{"@alice:x", ""},
			{"@alice:x", "1e3"},
			{"@alice:x", "99999999999999999999"},
		} {
			if c.user == "@bob:x" {
				// Give alice a filter 1 and cache it first.
				if _, err := s.CreateFilter(ctx, "@alice:x", []byte(`{}`)); err != nil {
					t.Fatal(err)
				}
				if _, err := s.LoadFilter(ctx, "@alice:x", "1"); err != nil {
					t.Fatal(err)
				}
			}
			_, err := s.LoadFilter(ctx, c.user, c.id)
			var me *spec.Error
			if !errors.As(err, &me) || me.Status != http.StatusNotFound || me.Code != "M_NOT_FOUND" {
				t.Errorf("LoadFilter(%s, %q) = %v, want 404 M_NOT_FOUND", c.user, c.id, err)
			}
		}
		if f, err := s.LoadFilter(ctx, "@bob:x", bobs); err != nil || f.RoomPart().TimelineFilter().LimitOr(0) != 1 {
			t.Errorf("bob's own filter: %v %v", f, err)
		}
	})
}

// TestFilterCacheBounds: the cache keeps the most recently used filters
// within its entry and byte bounds.
func TestFilterCacheBounds(t *testing.T) {
	c := newFilterCache(3, 100)
	mk := func(n int) *Filter {
		f, err := ParseFilter([]byte(`{"event_fields":["` + strings.Repeat("x", n) + `"]}`))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	for i := range 3 {
		c.put(filterKey{"@a:x", int64(i)}, mk(1))
	}
	c.get(filterKey{"@a:x", 0}) // 0 is now the most recently used
	c.put(filterKey{"@a:x", 3}, mk(1))
	if _, ok := c.get(filterKey{"@a:x", 1}); ok || c.len() != 3 {
		t.Errorf("entry bound: least recently used kept, %d entries", c.len())
	}
	if _, ok := c.get(filterKey{"@a:x", 0}); !ok {
		t.Error("recently used entry evicted")
	}
	c.put(filterKey{"@a:x", 4}, mk(60)) // 79 bytes: the others must go
	if _, ok := c.get(filterKey{"@a:x", 4}); !ok || c.len() != 1 || c.bytes > 100 {
		t.Errorf("byte bound: %d entries, %d bytes", c.len(), c.bytes)
	}
	c.put(filterKey{"@a:x", 5}, mk(200)) // larger than the whole cache
	if _, ok := c.get(filterKey{"@a:x", 5}); ok {
		t.Error("cached a filter larger than the byte bound")
	}
	if _, ok := c.get(filterKey{"@b:x", 4}); ok {
		t.Error("another user's key hit")
	}
}

// BenchmarkLoadFilter resolves a stored filter ID, as every /sync with
// ?filter=<id> does.
func BenchmarkLoadFilter(b *testing.B) {
	for _, db := range storetest.URLs(b) {
		b.Run(db.Name, func(b *testing.B) {
			s := filterSyncer(storetest.Open(b, db.URL))
			ctx := context.Background()
			id, err := s.CreateFilter(ctx, "@alice:bench.test", []byte(benchFilter))
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := s.LoadFilter(ctx, "@alice:bench.test", id); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLoadFilterBare is the limit of the uncached path: the store's
// select of the same row, without parsing it.
func BenchmarkLoadFilterBare(b *testing.B) {
	for _, db := range storetest.URLs(b) {
		b.Run(db.Name, func(b *testing.B) {
			st := storetest.Open(b, db.URL)
			ctx := context.Background()
			id, err := st.PutFilter(ctx, "@alice:bench.test", benchFilter)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := st.Filter(ctx, "@alice:bench.test", id); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
