package store

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"gorm.io/gorm"

	"github.com/kabarchat/kabar/models"
)

// StateCache reads and writes state snapshots through a bounded cache of
// decoded snapshots and blocks. Both are immutable once written, so the cache
// never needs invalidation; a NID from an aborted transaction is simply never
// referenced. Safe for concurrent use. Methods take the *Store to use, so the
// same cache serves reads and the writer's transactions.
type StateCache struct {
	mu        sync.Mutex
	max       int
	blocks    map[int64][]StateEntry
	snapshots map[int64]SnapshotBlocks
}

// NewStateCache keeps up to max blocks and max snapshots decoded.
func NewStateCache(max int) *StateCache {
	if max < 16 {
		max = 16
	}
	return &StateCache{max: max, blocks: map[int64][]StateEntry{}, snapshots: map[int64]SnapshotBlocks{}}
}

// evict drops about half of a full map; the entries are cheap to reload.
func evict[V any](m map[int64]V, max int) {
	if len(m) < max {
		return
	}
	n := 0
	for k := range m {
		delete(m, k)
		if n++; n >= max/2 {
			return
		}
	}
}

// Snapshot returns the bucket -> block NID list of a snapshot. NID 0 is the
// empty state (before the create event).
func (c *StateCache) Snapshot(ctx context.Context, s *Store, nid int64) (SnapshotBlocks, error) {
	if nid == 0 {
		return SnapshotBlocks{}, nil
	}
	c.mu.Lock()
	snap, ok := c.snapshots[nid]
	c.mu.Unlock()
	if ok {
		return snap, nil
	}
	var row models.StateSnapshot
	if err := s.q(ctx).Where("snapshot_nid = ?", nid).Take(&row).Error; err != nil {
		return nil, mapErr(fmt.Sprintf("load state snapshot %d", nid), err)
	}
	snap, err := DecodeSnapshot(row.Blocks)
	if err != nil {
		return nil, fmt.Errorf("state snapshot %d: %w", nid, err)
	}
	c.mu.Lock()
	evict(c.snapshots, c.max)
	c.snapshots[nid] = snap
	c.mu.Unlock()
	return snap, nil
}

// Blocks returns the decoded entries of the given blocks, loading the
// uncached ones in one query.
func (c *StateCache) Blocks(ctx context.Context, s *Store, nids []int64) (map[int64][]StateEntry, error) {
	out := make(map[int64][]StateEntry, len(nids))
	var missing []int64
	c.mu.Lock()
	for _, nid := range nids {
		if b, ok := c.blocks[nid]; ok {
			out[nid] = b
		} else {
			missing = append(missing, nid)
		}
	}
	c.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	var rows []models.StateBlock
	if err := s.q(ctx).Where("block_nid IN ?", missing).Find(&rows).Error; err != nil {
		return nil, mapErr("load state blocks", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, row := range rows {
		entries, err := DecodeBlock(row.Entries)
		if err != nil {
			return nil, fmt.Errorf("state block %d: %w", row.BlockNID, err)
		}
		evict(c.blocks, c.max)
		c.blocks[row.BlockNID] = entries
		out[row.BlockNID] = entries
	}
	if len(out) != len(nids) {
		return nil, fmt.Errorf("load state blocks: %d of %d missing: %w", len(nids)-len(out), len(nids), ErrNotFound)
	}
	return out, nil
}

// Lookup returns the event NID that sets key in a snapshot: one snapshot
// and one block read (or none, when cached). ErrNotFound if unset.
func (c *StateCache) Lookup(ctx context.Context, s *Store, snapNID int64, key StateKey) (int64, error) {
	snap, err := c.Snapshot(ctx, s, snapNID)
	if err != nil {
		return 0, err
	}
	blockNID, ok := snap[Bucket(key)]
	if !ok {
		return 0, fmt.Errorf("state %s/%s: %w", key.Type, key.StateKey, ErrNotFound)
	}
	blocks, err := c.Blocks(ctx, s, []int64{blockNID})
	if err != nil {
		return 0, err
	}
	for _, e := range blocks[blockNID] {
		if e.StateKey == key {
			return e.EventNID, nil
		}
	}
	return 0, fmt.Errorf("state %s/%s: %w", key.Type, key.StateKey, ErrNotFound)
}

// Full returns every entry of a snapshot.
func (c *StateCache) Full(ctx context.Context, s *Store, snapNID int64) ([]StateEntry, error) {
	snap, err := c.Snapshot(ctx, s, snapNID)
	if err != nil {
		return nil, err
	}
	nids := make([]int64, 0, len(snap))
	for _, nid := range snap {
		nids = append(nids, nid)
	}
	blocks, err := c.Blocks(ctx, s, nids)
	if err != nil {
		return nil, err
	}
	var out []StateEntry
	for _, b := range blocks {
		out = append(out, b...)
	}
	return out, nil
}

// Apply writes the snapshot that results from applying changes to the parent
// snapshot and returns its NID. Only the buckets the changes touch get a new
// block; a change with EventNID 0 removes the key. Equal blocks and equal
// snapshots are shared (content-addressed), so the cost of a state event is
// at most one block row and one snapshot row, whatever the room's size.
// Run it inside the transaction that stores the events.
func (c *StateCache) Apply(ctx context.Context, s *Store, roomID string, parent int64, changes []StateEntry) (int64, error) {
	if len(changes) == 0 {
		return parent, nil
	}
	snap, err := c.Snapshot(ctx, s, parent)
	if err != nil {
		return 0, err
	}
	next, err := c.applyBuckets(ctx, s, snap, changes)
	if err != nil {
		return 0, err
	}
	enc := EncodeSnapshot(next)
	row := models.StateSnapshot{RoomID: roomID, Hash: ContentHash([]byte(roomID), enc), Blocks: enc}
	nid, err := insertDedup(ctx, s, &row, row.Hash, func(r *models.StateSnapshot) int64 { return r.SnapshotNID })
	if err != nil {
		return 0, fmt.Errorf("store state snapshot: %w", err)
	}
	c.mu.Lock()
	evict(c.snapshots, c.max)
	c.snapshots[nid] = next
	c.mu.Unlock()
	return nid, nil
}

// applyBuckets returns the parent's bucket list with the touched buckets
// replaced by freshly stored blocks.
func (c *StateCache) applyBuckets(ctx context.Context, s *Store, parent SnapshotBlocks, changes []StateEntry) (SnapshotBlocks, error) {
	byBucket := map[int][]StateEntry{}
	for _, ch := range changes {
		b := Bucket(ch.StateKey)
		byBucket[b] = append(byBucket[b], ch)
	}
	next := make(SnapshotBlocks, len(parent)+len(byBucket))
	for b, nid := range parent {
		next[b] = nid
	}
	for bucket, chs := range byBucket {
		entries, err := c.bucketEntries(ctx, s, parent, bucket)
		if err != nil {
			return nil, err
		}
		entries = mergeEntries(entries, chs)
		if len(entries) == 0 {
			delete(next, bucket)
			continue
		}
		enc := EncodeBlock(entries)
		row := models.StateBlock{Hash: ContentHash(enc), Entries: enc}
		nid, err := insertDedup(ctx, s, &row, row.Hash, func(r *models.StateBlock) int64 { return r.BlockNID })
		if err != nil {
			return nil, fmt.Errorf("store state block: %w", err)
		}
		c.mu.Lock()
		evict(c.blocks, c.max)
		c.blocks[nid] = entries
		c.mu.Unlock()
		next[bucket] = nid
	}
	return next, nil
}

func (c *StateCache) bucketEntries(ctx context.Context, s *Store, snap SnapshotBlocks, bucket int) ([]StateEntry, error) {
	nid, ok := snap[bucket]
	if !ok {
		return nil, nil
	}
	blocks, err := c.Blocks(ctx, s, []int64{nid})
	if err != nil {
		return nil, err
	}
	return blocks[nid], nil
}

// mergeEntries applies changes (later ones win) to a copy of entries.
func mergeEntries(entries, changes []StateEntry) []StateEntry {
	m := make(map[StateKey]int64, len(entries)+len(changes))
	for _, e := range entries {
		m[e.StateKey] = e.EventNID
	}
	for _, ch := range changes {
		if ch.EventNID == 0 {
			delete(m, ch.StateKey)
		} else {
			m[ch.StateKey] = ch.EventNID
		}
	}
	out := make([]StateEntry, 0, len(m))
	for k, nid := range m {
		out = append(out, StateEntry{k, nid})
	}
	return out
}

// insertDedup inserts a content-addressed row unless one with the same hash
// exists, and returns the row's NID either way.
func insertDedup[T any](ctx context.Context, s *Store, row *T, hash string, nidOf func(*T) int64) (int64, error) {
	var existing T
	err := s.q(ctx).Where("hash = ?", hash).Take(&existing).Error
	if err == nil {
		return nidOf(&existing), nil
	}
	if !errors.Is(err, gorm.ErrRecordNotFound) {
		return 0, err
	}
	if err := s.q(ctx).Create(row).Error; err != nil {
		return 0, mapErr("insert", err)
	}
	return nidOf(row), nil
}
