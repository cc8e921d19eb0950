package sync

import (
	"context"
	"encoding/json"
	"maps"
	"slices"

	"github.com/kabarchat/kabar/models"
)

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
		send := roomSend{from: prev.pos, lazy: prev.lazy, sent: prev.config}
		switch {
		case !had || prev.membership != info.membership || !prev.config.coversState(cfg) ||
			(cfg.TimelineLimit > prev.config.timelineLimit && info.membership != "join"):
			// Asking for more state than was sent resends the room whole
			// (NOTSPEC: Synapse sends just the extra state; a resend with
			// initial is what that shortcut stands for), as does more
			// timeline of a room the user left.
			send = roomSend{initial: true, sent: newSentConfig(cfg)}
		case cfg.TimelineLimit > prev.config.timelineLimit && info.membership == "join":
			// A raised timeline_limit sends the newest events up to the new
			// limit, not the room afresh (Synapse's
			// unstable_expanded_timeline). NOTSPEC: Synapse compares with
			// the limit of the last request; Kabar with the widest sent, so
			// lowering and raising it again does not expand.
			send.expanded = true
			send.sent.timelineLimit = cfg.TimelineLimit
		case info.bump <= prev.pos && !read[id]:
			continue
		}
		room, lazy, err := sb.room(ctx, id, info, cfg, send)
		if err != nil {
			return err
		}
		if sb.resp.Rooms == nil {
			sb.resp.Rooms = map[string]*SlidingRoom{}
		}
		sb.resp.Rooms[id] = room
		sb.changed = true
		sb.st.sent[id] = sentRoom{pos: sb.now[StreamEvents], membership: info.membership, config: send.sent, lazy: lazy}
	}
	return nil
}

// roomSend is how one room is sent: afresh (initial), or as what changed
// after from, with its timeline expanded to the newest events when the
// client raised its limit; lazy are the members the connection has.
type roomSend struct {
	from              int64
	initial, expanded bool
	sent              sentConfig
	lazy              map[string]bool
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
func (sb *slidingBuild) room(ctx context.Context, id string, info *roomInfo, cfg *RoomConfig, send roomSend) (*SlidingRoom, map[string]bool, error) {
	from, initial := send.from, send.initial
	b := sb.builder(cfg.TimelineLimit)
	r := &SlidingRoom{Initial: initial, BumpStamp: info.bump, IsDM: sb.st.dm[id], ExpandedTimeline: send.expanded}
	var to, visibleFrom, snap int64
	if info.membership == "join" {
		// The member list shared with /sync requests at the same position.
		mp, err := b.memberPosition(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		to, visibleFrom = sb.now[StreamEvents], mp.StreamPos
	} else {
		member, err := b.memberEvent(ctx, id)
		if err != nil || info.membership == "invite" || info.membership == "knock" {
			r, err = sb.stripped(ctx, b, id, info, member, r, err)
			return r, nil, err
		}
		to, visibleFrom, snap = member.StreamPos, member.StreamPos+1, member.StateAfter
	}
	var tl timelineSlice
	var err error
	if cfg.TimelineLimit > 0 {
		tlFrom := from
		if send.expanded {
			tlFrom = 0
		}
		if tl, err = b.readTimeline(ctx, id, tlFrom, to, visibleFrom); err != nil {
			return nil, nil, err
		}
		t, err := b.timelineSection(ctx, tl, b.filterTimeline(id, tl.rows))
		if err != nil {
			return nil, nil, err
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
			return nil, nil, err
		}
	}
	rs := roomState{sb: sb, b: b, id: id, snap: snap, from: from, to: to, initial: initial, tl: tl, lazy: send.lazy,
		// An unlimited timeline after from holds every state change (an
		// expanded one reaches back before from).
		tlComplete: cfg.TimelineLimit > 0 && !tl.limited && from > 0 && !send.expanded}
	if err := rs.fill(ctx, cfg, r); err != nil {
		return nil, nil, err
	}
	if info.membership == "join" && sb.s.opts.Unread != nil {
		c, err := b.unreadCounts(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		r.NotificationCount, r.HighlightCount = c.NotificationCount, c.HighlightCount
	}
	return r, rs.lazy, nil
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
