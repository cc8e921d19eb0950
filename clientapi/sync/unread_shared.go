package sync

import "context"

// unreadKey names a user's unread counts in a room at a pair of stream
// positions. The counts are a function of the notifications recorded up to
// the events position (once the push worker has passed it), the receipts
// up to the receipts position and the membership at the events position,
// so every request at the same positions (the user's other devices woken
// by the same message) gets the same answer.
type unreadKey struct {
	user, room       string
	events, receipts int64
}

// processedSource is implemented by an UnreadSource that can tell how far
// its worker has recorded notifications.
type processedSource interface{ Processed() int64 }

// unreadCounts is UnreadCounts, shared by the requests at the same
// positions when the source has recorded everything up to them (a lagging
// worker's counts are not kept: a later request may see more).
func (b *builder) unreadCounts(ctx context.Context, roomID string) (UnreadCounts, error) {
	u := b.s.opts.Unread
	load := func(ctx context.Context) (UnreadCounts, error) {
		n, h, err := u.UnreadCounts(ctx, b.req.UserID, roomID)
		return UnreadCounts{NotificationCount: n, HighlightCount: h}, err
	}
	p, ok := u.(processedSource)
	if !ok || p.Processed() < b.now[StreamEvents] {
		return load(ctx)
	}
	key := unreadKey{b.req.UserID, roomID, b.now[StreamEvents], b.now[StreamReceipts]}
	return b.s.shared.unread.get(ctx, key, load)
}

// byRoomSource is implemented by an UnreadSource that counts all of a
// user's rooms in one query.
type byRoomSource interface {
	UnreadCountsByRoom(ctx context.Context, userID string) (map[string][2]int64, error)
}

// unreadFromAll answers an initial (or full-state) sync's unread counts
// from one query for all rooms instead of one per room with notifications;
// done is false when it does not apply (incremental, threaded counts, or a
// source without the batch query).
func (b *builder) unreadFromAll(ctx context.Context, roomID string, jr *JoinedRoom) (done bool, err error) {
	src, ok := b.s.opts.Unread.(byRoomSource)
	if !ok || !(b.initial || b.req.FullState) || b.req.Filter.RoomPart().TimelineFilter().UnreadThreadNotifications {
		return false, nil
	}
	if b.unreadAll == nil {
		if b.unreadAll, err = src.UnreadCountsByRoom(ctx, b.req.UserID); err != nil {
			return false, err
		}
	}
	c := b.unreadAll[roomID]
	jr.UnreadNotifications = &UnreadCounts{NotificationCount: c[0], HighlightCount: c[1]}
	return true, nil
}

// preloadUnread loads what unread would load on its first room (the
// counts of all rooms, or the rooms with notifications), for builders that
// then run concurrently.
func (b *builder) preloadUnread(ctx context.Context) error {
	u := b.s.opts.Unread
	if u == nil {
		return nil
	}
	threaded := b.req.Filter.RoomPart().TimelineFilter().UnreadThreadNotifications
	if src, ok := u.(byRoomSource); ok && !threaded {
		all, err := src.UnreadCountsByRoom(ctx, b.req.UserID)
		if err != nil {
			return err
		}
		if all == nil {
			all = map[string][2]int64{}
		}
		b.unreadAll = all
		return nil
	}
	return b.loadNotified(ctx)
}

// loadNotified reads, in one query, which of the user's rooms have
// notifications at all (the others count zero without a query).
func (b *builder) loadNotified(ctx context.Context) error {
	rooms, err := b.s.opts.Unread.NotifiedRooms(ctx, b.req.UserID)
	if err != nil {
		return err
	}
	b.notified = make(map[string]bool, len(rooms))
	for _, r := range rooms {
		b.notified[r] = true
	}
	return nil
}
