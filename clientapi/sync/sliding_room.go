package sync

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/store"
)

// matches applies a list's filters to a room (MSC4186 "Filters").
func (sb *slidingBuild) matches(ctx context.Context, id string, f *ListFilters) (bool, error) {
	if f == nil {
		return true, nil
	}
	info := sb.st.rooms[id]
	if f.IsInvite != nil && (info.membership == "invite") != *f.IsInvite {
		return false, nil
	}
	if f.IsDM != nil && sb.st.dm[id] != *f.IsDM {
		return false, nil
	}
	if f.IsEncrypted != nil {
		if !info.encKnown {
			_, err := sb.s.st.CurrentStateRow(ctx, id, "m.room.encryption", "")
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return false, err
			}
			info.encrypted, info.encKnown = err == nil, true
		}
		if info.encrypted != *f.IsEncrypted {
			return false, nil
		}
	}
	if f.RoomTypes == nil && f.NotRoomTypes == nil {
		return true, nil
	}
	if !info.typeKnown {
		typ, err := sb.roomType(ctx, id)
		if err != nil {
			return false, err
		}
		info.roomType, info.typeKnown = typ, true
	}
	if f.RoomTypes != nil && !hasRoomType(f.RoomTypes, info.roomType) {
		return false, nil
	}
	return !hasRoomType(f.NotRoomTypes, info.roomType), nil
}

// roomType is the type in the room's m.room.create content (nil: none,
// or a room known only from an invite).
func (sb *slidingBuild) roomType(ctx context.Context, id string) (*string, error) {
	cs, err := sb.s.st.CurrentStateRow(ctx, id, "m.room.create", "")
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	ev, err := sb.s.st.EventByID(ctx, cs.EventID)
	if err != nil {
		return nil, err
	}
	var create struct {
		Content struct {
			Type *string `json:"type"`
		} `json:"content"`
	}
	json.Unmarshal([]byte(ev.JSON), &create) // stored events are valid JSON
	return create.Content.Type, nil
}

func hasRoomType(types []*string, t *string) bool {
	return slices.ContainsFunc(types, func(x *string) bool {
		return (x == nil && t == nil) || (x != nil && t != nil && *x == *t)
	})
}

// builder returns a classic /sync builder set up for one room of this
// response: the timeline limit as its filter, the connection's positions.
func (sb *slidingBuild) builder(limit int) *builder {
	f := &Filter{Room: &RoomFilter{Timeline: &RoomEventFilter{EventFilter: EventFilter{Limit: &limit}}}}
	return &builder{s: sb.s, req: Request{UserID: sb.req.UserID, DeviceID: sb.req.DeviceID, Filter: f},
		since: sb.old.token, now: sb.now, resp: &Response{}, initial: sb.initial}
}

// rooms sends the windowed rooms the connection does not have, or has
// older than their latest event, or has with another configuration.
func (sb *slidingBuild) rooms(ctx context.Context) error {
	if u := sb.s.opts.Unread; u != nil && len(sb.window) > 0 {
		u.WaitProcessed(ctx, sb.now[StreamEvents])
	}
	read, err := sb.readRooms(ctx)
	if err != nil {
		return err
	}
	for _, id := range slices.Sorted(maps.Keys(sb.window)) {
		cfg, info := sb.window[id], sb.st.rooms[id]
		prev, had := sb.old.sent[id]
		// A configuration asking for more than was sent resends the room
		// whole (NOTSPEC: Synapse sends just the extra state; a resend
		// with initial is what that shortcut stands for).
		initial := !had || prev.membership != info.membership || !prev.config.covers(cfg)
		if !initial && info.bump <= prev.pos && !read[id] {
			continue
		}
		from, sent := prev.pos, prev.config
		if initial {
			from, sent = 0, newSentConfig(cfg)
		}
		room, err := sb.room(ctx, id, info, cfg, from, initial)
		if err != nil {
			return err
		}
		if sb.resp.Rooms == nil {
			sb.resp.Rooms = map[string]*SlidingRoom{}
		}
		sb.resp.Rooms[id] = room
		sb.changed = true
		sb.st.sent[id] = sentRoom{pos: sb.now[StreamEvents], membership: info.membership, config: sent}
	}
	return nil
}

// readRooms are the windowed rooms where the user's own receipts moved
// since the connection's position: their notification counts changed, so
// they are resent even without new events.
func (sb *slidingBuild) readRooms(ctx context.Context) (map[string]bool, error) {
	from, to := sb.old.token[StreamReceipts], sb.now[StreamReceipts]
	if sb.initial || from >= to || sb.s.opts.Unread == nil {
		return nil, nil
	}
	ids, err := sb.s.st.ReceiptRooms(ctx, sb.req.UserID, from, to)
	if err != nil {
		return nil, err
	}
	read := map[string]bool{}
	for _, id := range ids {
		if _, ok := sb.window[id]; !ok {
			continue
		}
		rows, err := sb.s.st.ReceiptsSince(ctx, id, from, to)
		if err != nil {
			return nil, err
		}
		read[id] = slices.ContainsFunc(rows, func(r models.Receipt) bool { return r.UserID == sb.req.UserID })
	}
	return read, nil
}

// room builds one room: stripped state for an invite or knock; for a room
// the user is (or was) in, the timeline after from, the required state
// and the summary fields.
func (sb *slidingBuild) room(ctx context.Context, id string, info *roomInfo, cfg *RoomConfig, from int64, initial bool) (*SlidingRoom, error) {
	b := sb.builder(cfg.TimelineLimit)
	r := &SlidingRoom{Initial: initial, BumpStamp: info.bump, IsDM: sb.st.dm[id]}
	var to, visibleFrom, snap int64
	if info.membership == "join" {
		// The member list shared with /sync requests at the same position.
		mp, err := b.memberPosition(ctx, id)
		if err != nil {
			return nil, err
		}
		to, visibleFrom = sb.now[StreamEvents], mp.StreamPos
	} else {
		member, err := b.memberEvent(ctx, id)
		if err != nil || info.membership == "invite" || info.membership == "knock" {
			return sb.stripped(ctx, b, id, info, member, r, err)
		}
		to, visibleFrom, snap = member.StreamPos, member.StreamPos+1, member.StateAfter
	}
	var tl timelineSlice
	var err error
	if cfg.TimelineLimit > 0 {
		if tl, err = b.readTimeline(ctx, id, from, to, visibleFrom); err != nil {
			return nil, err
		}
		t, err := b.timelineSection(ctx, tl, b.filterTimeline(id, tl.rows))
		if err != nil {
			return nil, err
		}
		r.Timeline, r.Limited, r.PrevBatch = t.Events, t.Limited, t.PrevBatch
		for _, row := range tl.rows {
			if !sb.initial && row.StreamPos > sb.old.token[StreamEvents] {
				r.NumLive++
			}
		}
	}
	if info.membership == "join" {
		if snap, err = sb.snapshot(ctx, id, tl); err != nil {
			return nil, err
		}
	}
	rs := roomState{sb: sb, b: b, id: id, snap: snap, from: from, to: to, initial: initial, tl: tl,
		// An unlimited timeline after from holds every state change.
		tlComplete: cfg.TimelineLimit > 0 && !tl.limited && from > 0}
	if err := rs.fill(ctx, cfg, r); err != nil {
		return nil, err
	}
	if info.membership == "join" && sb.s.opts.Unread != nil {
		c, err := b.unreadCounts(ctx, id)
		if err != nil {
			return nil, err
		}
		r.NotificationCount, r.HighlightCount = c.NotificationCount, c.HighlightCount
	}
	return r, nil
}

// stripped finishes an invited or knocked room: its stripped state.
func (sb *slidingBuild) stripped(ctx context.Context, b *builder, id string, info *roomInfo, member models.Event, r *SlidingRoom, err error) (*SlidingRoom, error) {
	if err != nil {
		return nil, err
	}
	events, err := b.strippedState(ctx, id, member)
	if err != nil {
		return nil, err
	}
	if info.membership == "knock" {
		r.KnockState = events
	} else {
		r.InviteState, r.IsDM = events, r.IsDM || isDirect(member)
	}
	return r, nil
}

// snapshot is a joined room's state as of now: after the newest timeline
// event, else the room's current snapshot.
func (sb *slidingBuild) snapshot(ctx context.Context, id string, tl timelineSlice) (int64, error) {
	if n := len(tl.rows); n > 0 && tl.rows[n-1].StateAfter != 0 {
		return tl.rows[n-1].StateAfter, nil
	}
	room, err := sb.s.st.Room(ctx, id)
	return room.SnapshotNID, err
}

// isDirect reads is_direct from an invite (client-server-api "Direct
// Messaging"): the invited user sees a DM before m.direct names it.
func isDirect(member models.Event) bool {
	var ev struct {
		Content struct {
			IsDirect bool `json:"is_direct"`
		} `json:"content"`
	}
	json.Unmarshal([]byte(member.JSON), &ev) // stored events are valid JSON
	return ev.Content.IsDirect
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
