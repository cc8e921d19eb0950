package sync

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/kabarchat/kabar/clientapi/clientevent"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/store"
)

const (
	defaultTimelineLimit = 10
	maxTimelineLimit     = 500
)

// timelineSlice is a room's timeline rows, oldest first.
type timelineSlice struct {
	rows    []models.Event
	limited bool
}

// readTimeline reads the newest timeline events in (from, to], at most the
// filter's limit, keeping those the user may see (history visibility).
// Events at or after visibleFrom are known visible (the user was joined).
func (b *builder) readTimeline(ctx context.Context, roomID string, from, to, visibleFrom int64) (timelineSlice, error) {
	limit := min(max(b.req.Filter.RoomPart().TimelineFilter().LimitOr(defaultTimelineLimit), 1), maxTimelineLimit)
	rows, err := b.timelineTail(ctx, roomID, from, to, limit+1)
	if err != nil {
		return timelineSlice{}, err
	}
	tl := timelineSlice{limited: len(rows) > limit}
	if tl.limited {
		rows = rows[:limit]
	}
	// An out-of-band invite (stored before this server joined) has no
	// state snapshot: it is not part of the room's timeline here, and as
	// the first row it would make the state before the timeline empty.
	rows = slices.DeleteFunc(rows, outOfBand)
	slices.Reverse(rows)
	cut := 0
	for cut < len(rows) && rows[cut].StreamPos < visibleFrom {
		cut++
	}
	if cut > 0 {
		early, err := b.s.opts.Rooms.FilterVisible(ctx, b.req.UserID, rows[:cut])
		if err != nil {
			return timelineSlice{}, err
		}
		if len(early) < cut {
			tl.limited = false // what came before is not visible either
		}
		rows = append(early, rows[cut:]...)
	}
	tl.rows = rows
	return tl, nil
}

// filterTimeline applies the timeline filter's type, sender and URL rules.
func (b *builder) filterTimeline(roomID string, rows []models.Event) []models.Event {
	f := b.req.Filter.RoomPart().TimelineFilter()
	return slices.DeleteFunc(slices.Clone(rows), func(r models.Event) bool {
		return !f.AllowsEvent(roomID, r.Type, r.Sender, f.ContainsURL != nil && hasURL(r))
	})
}

func hasURL(r models.Event) bool {
	var ev struct {
		Content map[string]json.RawMessage `json:"content"`
	}
	json.Unmarshal([]byte(r.JSON), &ev) // stored events are valid JSON
	_, ok := ev.Content["url"]
	return ok
}

// stateFor returns the state section: the full state before the timeline
// when full, otherwise the state events the timeline skipped over (a
// limited incremental timeline). Lazy loading keeps only the members who
// sent timeline events (and the user).
func (b *builder) stateFor(ctx context.Context, roomID string, tl timelineSlice, from int64, full bool) ([]models.Event, error) {
	snap, err := b.snapshotBefore(ctx, roomID, tl)
	if err != nil {
		return nil, err
	}
	sf := b.req.Filter.RoomPart().StateFilter()
	senders := map[string]bool{b.req.UserID: true}
	for _, r := range tl.rows {
		senders[r.Sender] = true
	}
	var rows []models.Event
	switch {
	case full:
		rows, err = b.fullState(ctx, snap)
	case tl.limited && len(tl.rows) > 0:
		rows, err = b.s.st.StateEventsBetween(ctx, roomID, from, tl.rows[0].StreamPos)
		rows = latestPerKey(rows)
	}
	if err != nil {
		return nil, err
	}
	if sf.LazyLoadMembers {
		rows = slices.DeleteFunc(rows, func(r models.Event) bool { return r.Type == "m.room.member" && !senders[*r.StateKey] })
		if !full {
			if rows, err = b.addMembers(ctx, snap, rows, tl, senders); err != nil {
				return nil, err
			}
		}
	}
	return slices.DeleteFunc(rows, func(r models.Event) bool { return !sf.AllowsEvent(roomID, r.Type, r.Sender, false) }), nil
}

// snapshotBefore is the state snapshot at the start of the timeline (the
// room's current state when the timeline is empty).
func (b *builder) snapshotBefore(ctx context.Context, roomID string, tl timelineSlice) (int64, error) {
	if len(tl.rows) > 0 {
		return tl.rows[0].StateBefore, nil
	}
	room, err := b.s.st.Room(ctx, roomID)
	return room.SnapshotNID, err
}

func (b *builder) fullState(ctx context.Context, snap int64) ([]models.Event, error) {
	entries, err := b.s.state.Full(ctx, b.s.st, snap)
	if err != nil {
		return nil, err
	}
	nids := make([]int64, len(entries))
	for i, e := range entries {
		nids[i] = e.EventNID
	}
	rows, err := b.s.st.EventsByNID(ctx, nids)
	slices.SortFunc(rows, func(a, b models.Event) int { return int(a.StreamPos - b.StreamPos) })
	return rows, err
}

// addMembers adds, for lazy loading on an incremental sync, the membership
// events of timeline senders that are neither in the state section nor in
// the timeline. Sending one the client already has is allowed
// (client-server-api "Lazy-loading room members").
func (b *builder) addMembers(ctx context.Context, snap int64, rows []models.Event, tl timelineSlice, senders map[string]bool) ([]models.Event, error) {
	have := map[string]bool{}
	for _, r := range append(slices.Clone(rows), tl.rows...) {
		if r.Type == "m.room.member" && r.StateKey != nil {
			have[*r.StateKey] = true
		}
	}
	var nids []int64
	for u := range senders {
		if have[u] || len(tl.rows) == 0 {
			continue
		}
		nid, err := b.s.state.Lookup(ctx, b.s.st, snap, store.StateKey{Type: "m.room.member", StateKey: u})
		if err == nil {
			nids = append(nids, nid)
		}
	}
	if len(nids) == 0 {
		return rows, nil
	}
	more, err := b.s.st.EventsByNID(ctx, nids)
	return append(rows, more...), err
}

// latestPerKey keeps the last event of each (type, state_key).
func latestPerKey(rows []models.Event) []models.Event {
	last := map[store.StateKey]int{}
	for i, r := range rows {
		last[store.StateKey{Type: r.Type, StateKey: *r.StateKey}] = i
	}
	out := rows[:0:0]
	for i, r := range rows {
		if last[store.StateKey{Type: r.Type, StateKey: *r.StateKey}] == i {
			out = append(out, r)
		}
	}
	return out
}

// format turns rows into client events without room_id (the /sync form).
func (b *builder) format(ctx context.Context, rows []models.Event) ([]clientevent.Event, error) {
	out, err := b.s.opts.Format.Rows(ctx, clientevent.Viewer{UserID: b.req.UserID, DeviceID: b.req.DeviceID}, rows)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].RoomID = ""
	}
	if out == nil {
		out = []clientevent.Event{}
	}
	return out, nil
}
