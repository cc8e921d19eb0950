package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
)

func TestBlockCodecRoundTrip(t *testing.T) {
	entries := []store.StateEntry{
		{StateKey: store.StateKey{Type: "m.room.member", StateKey: "@b:x"}, EventNID: 1 << 40},
		{StateKey: store.StateKey{Type: "m.room.create"}, EventNID: 1},
	}
	got, err := store.DecodeBlock(store.EncodeBlock(entries))
	if err != nil || len(got) != 2 || got[0].Type != "m.room.create" || got[1].EventNID != 1<<40 {
		t.Fatalf("round trip = %+v, %v", got, err)
	}
	for _, bad := range [][]byte{{}, {5}, {1, 200}, append(store.EncodeBlock(entries), 0)} {
		if _, err := store.DecodeBlock(bad); err == nil {
			t.Errorf("DecodeBlock(%v) accepted corrupt input", bad)
		}
	}
}

// TestStateSnapshotsShareBlocks builds a 10,000-member room's state and
// checks that one more state event costs one block and one snapshot row, and
// that the snapshots before and after read back correctly.
func TestStateSnapshotsShareBlocks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		cache := store.NewStateCache(1000)
		room := "!big:kabar.test"
		members := make([]store.StateEntry, 10000)
		for i := range members {
			members[i] = store.StateEntry{StateKey: store.StateKey{Type: "m.room.member", StateKey: fmt.Sprintf("@u%d:kabar.test", i)}, EventNID: int64(i + 1)}
		}
		var base int64
		err := s.Transaction(ctx, func(tx *store.Store) (err error) {
			base, err = cache.Apply(ctx, tx, room, 0, members)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		before := countRows(t, s, "state_blocks", "state_snapshots")
		var next int64
		change := store.StateEntry{StateKey: store.StateKey{Type: "m.room.member", StateKey: "@u5:kabar.test"}, EventNID: 20000}
		err = s.Transaction(ctx, func(tx *store.Store) (err error) {
			next, err = cache.Apply(ctx, tx, room, base, []store.StateEntry{change})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		after := countRows(t, s, "state_blocks", "state_snapshots")
		if after-before != 2 {
			t.Fatalf("one state change added %d rows, want 2 (one block, one snapshot)", after-before)
		}
		// Read through a cold cache: the stored form must be complete.
		cold := store.NewStateCache(1000)
		full, err := cold.Full(ctx, s, next)
		if err != nil || len(full) != 10000 {
			t.Fatalf("full state: %d entries, %v", len(full), err)
		}
		for snap, want := range map[int64]int64{base: 6, next: 20000} {
			got, err := cold.Lookup(ctx, s, snap, change.StateKey)
			if err != nil || got != want {
				t.Errorf("snapshot %d: lookup = %d, %v; want %d", snap, got, err, want)
			}
		}
		// Re-applying an existing change yields the same (shared) snapshot.
		var again int64
		s.Transaction(ctx, func(tx *store.Store) (err error) {
			again, err = cache.Apply(ctx, tx, room, base, []store.StateEntry{change})
			return err
		})
		if again != next || countRows(t, s, "state_blocks", "state_snapshots") != after {
			t.Errorf("identical state was stored twice (snapshot %d vs %d)", again, next)
		}
	})
}

func countRows(t *testing.T, s *store.Store, tables ...string) int64 {
	t.Helper()
	var total int64
	for _, table := range tables {
		n, err := s.CountRowsForTest(context.Background(), table)
		if err != nil {
			t.Fatal(err)
		}
		total += n
	}
	return total
}
