package sync

import (
	"context"
	"slices"
	stdsync "sync"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/store"
)

// shared holds the reads that every /sync request woken by the same event
// repeats: which rooms changed in the range, who is in them, the new
// timeline events and receipts. A message to a room with a thousand parked
// long-polls then costs each woken request no database query for its
// timeline: the first one reads, the others wait for that read and share
// it. Everything is keyed by stream positions up to a readable position,
// so an entry never goes stale in what it answers: events and their order
// at positions <= to do not change (a later redaction comes with a later
// position, hence a new key).
type shared struct {
	rooms    memo[[2]int64, []string]
	members  memo[roomAt, map[string]store.MemberPosition]
	tails    memo[tailKey, []models.Event]
	receipts memo[tailKey, []models.Receipt]
	unread   memo[unreadKey, UnreadCounts]
}

type roomAt struct {
	room string
	to   int64
}

type tailKey struct {
	room     string
	from, to int64
	limit    int
}

// sharedEntries bounds each memo: wake-ups concern the last few positions.
const sharedEntries = 512

// maxSharedRooms: a range touching more rooms than this (a client back
// after a long time) is answered by the per-user query instead of loading
// every changed room's member list.
const maxSharedRooms = 16

func newShared() *shared {
	return &shared{
		rooms:    memo[[2]int64, []string]{limit: sharedEntries},
		members:  memo[roomAt, map[string]store.MemberPosition]{limit: sharedEntries},
		tails:    memo[tailKey, []models.Event]{limit: sharedEntries},
		receipts: memo[tailKey, []models.Receipt]{limit: sharedEntries},
		unread:   memo[unreadKey, UnreadCounts]{limit: 4 * sharedEntries},
	}
}

// changedRoomsShared answers ChangedRooms from the shared reads; ok is
// false when the range is too wide to share.
func (b *builder) changedRoomsShared(ctx context.Context) ([]store.RoomMembership, bool, error) {
	from, to := b.since[StreamEvents], b.now[StreamEvents]
	sh, st := b.s.shared, b.s.st
	rooms, err := sh.rooms.get(ctx, [2]int64{from, to}, func(ctx context.Context) ([]string, error) {
		return st.RoomsWithEvents(ctx, from, to)
	})
	if err != nil || len(rooms) > maxSharedRooms {
		return nil, false, err
	}
	var out []store.RoomMembership
	for _, room := range rooms {
		m, err := b.memberPosition(ctx, room)
		if err != nil {
			return nil, false, err
		}
		if m.Membership != "" {
			out = append(out, store.RoomMembership{RoomID: room, Membership: m.Membership})
		}
	}
	return out, true, nil
}

// memberPosition is the user's current membership in the room and the
// position of its event, from the room's shared member list.
func (b *builder) memberPosition(ctx context.Context, roomID string) (store.MemberPosition, error) {
	st := b.s.st
	members, err := b.s.shared.members.get(ctx, roomAt{roomID, b.now[StreamEvents]}, func(ctx context.Context) (map[string]store.MemberPosition, error) {
		rows, err := st.RoomMemberPositions(ctx, roomID)
		if err != nil {
			return nil, err
		}
		m := make(map[string]store.MemberPosition, len(rows))
		for _, r := range rows {
			m[r.UserID] = r
		}
		return m, nil
	})
	return members[b.req.UserID], err
}

// memberPos is the position of the user's membership event: from the
// shared member list on an incremental sync (a wake-up), from the event
// itself on an initial one (many rooms, each read once).
func (b *builder) memberPos(ctx context.Context, roomID string) (store.MemberPosition, error) {
	if !b.initial && !b.req.FullState {
		return b.memberPosition(ctx, roomID)
	}
	ev, err := b.memberEvent(ctx, roomID)
	return store.MemberPosition{UserID: b.req.UserID, Membership: ev.Membership, StreamPos: ev.StreamPos}, err
}

// timelineTail is RoomTimelineTail, shared for incremental ranges. The
// caller gets its own copy of the slice.
func (b *builder) timelineTail(ctx context.Context, roomID string, from, to int64, limit int) ([]models.Event, error) {
	st := b.s.st
	if from <= 0 {
		return st.RoomTimelineTail(ctx, roomID, from, to, limit)
	}
	rows, err := b.s.shared.tails.get(ctx, tailKey{roomID, from, to, limit}, func(ctx context.Context) ([]models.Event, error) {
		return st.RoomTimelineTail(ctx, roomID, from, to, limit)
	})
	return slices.Clone(rows), err
}

// receiptsSince is ReceiptsSince, shared and skipped for an empty range.
func (b *builder) receiptsSince(ctx context.Context, roomID string) ([]models.Receipt, error) {
	from, to := b.since[StreamReceipts], b.now[StreamReceipts]
	if from >= to {
		return nil, nil
	}
	st := b.s.st
	return b.s.shared.receipts.get(ctx, tailKey{room: roomID, from: from, to: to}, func(ctx context.Context) ([]models.Receipt, error) {
		return st.ReceiptsSince(ctx, roomID, from, to)
	})
}

// extFills are an extension source's results during one request, by
// stream: a rebuild after a wake-up reuses them while the source's stream
// has not moved, instead of re-reading the device's to-device inbox, device
// list changes and key counts for every room message. (The key counts may
// then be as old as the long-poll; the next request reads them afresh.)
type extFills map[StreamID]extFill

type extFill struct {
	upto int64
	ext  Extensions
}

// memo is a small bounded map of loaded values in which concurrent
// requests for a missing key wait for one load instead of each loading.
// Failed loads are not kept. Values are shared: callers must not modify
// them.
type memo[K comparable, V any] struct {
	mu    stdsync.Mutex
	m     map[K]*memoEntry[V]
	order []K
	limit int
}

type memoEntry[V any] struct {
	done chan struct{}
	v    V
	err  error
}

func (c *memo[K, V]) get(ctx context.Context, key K, load func(context.Context) (V, error)) (V, error) {
	c.mu.Lock()
	if e, ok := c.m[key]; ok {
		c.mu.Unlock()
		select {
		case <-e.done:
			return e.v, e.err
		case <-ctx.Done():
			var zero V
			return zero, ctx.Err()
		}
	}
	if c.m == nil {
		c.m = map[K]*memoEntry[V]{}
	}
	e := &memoEntry[V]{done: make(chan struct{})}
	c.m[key] = e
	c.order = append(c.order, key)
	if len(c.order) > c.limit {
		delete(c.m, c.order[0])
		c.order = c.order[1:]
	}
	c.mu.Unlock()
	// The load serves every waiter, so one request going away must not
	// fail it for the others.
	e.v, e.err = load(context.WithoutCancel(ctx))
	close(e.done)
	if e.err != nil {
		c.mu.Lock()
		if c.m[key] == e {
			delete(c.m, key)
		}
		c.mu.Unlock()
	}
	return e.v, e.err
}
