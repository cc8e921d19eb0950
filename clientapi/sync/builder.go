package sync

import (
	"context"
	"encoding/json"
	"slices"
	"sort"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/store"
)

// builder assembles one /sync response.
type builder struct {
	s       *Syncer
	req     Request
	since   Token
	now     Token
	resp    *Response
	initial bool
	// filled are the extension sources' results earlier in this request.
	filled extFills
	// roomData is the changed per-room account data, by room.
	roomData map[string][]json.RawMessage
	// notified are the rooms with notifications (initial sync; unread.go).
	notified map[string]bool
	// unreadAll are the counts of every room with any (initial sync;
	// unread_shared.go).
	unreadAll map[string][2]int64
}

// accountEvent is an account data event ({type, content}).
func accountEvent(typ, content string) json.RawMessage {
	b, _ := json.Marshal(struct {
		Type    string          `json:"type"`
		Content json.RawMessage `json:"content"`
	}{typ, json.RawMessage(content)})
	return b
}

// accountData fills the top-level account_data and collects the per-room
// entries changed since the token (client-server-api "Client Config").
func (b *builder) accountData(ctx context.Context) error {
	b.roomData = map[string][]json.RawMessage{}
	if b.since[StreamAccountData] >= b.now[StreamAccountData] {
		return nil // nothing in the range: no query
	}
	rows, err := b.s.st.AccountDataSince(ctx, b.req.UserID, b.since[StreamAccountData], b.now[StreamAccountData])
	if err != nil {
		return err
	}
	global := b.req.Filter.accountDataFilter()
	roomFilter := b.req.Filter.RoomPart().AccountDataFilter()
	b.roomData = map[string][]json.RawMessage{}
	var events []json.RawMessage
	for _, r := range rows {
		if r.RoomID == "" {
			if global.Allows(r.Type, b.req.UserID) {
				events = append(events, accountEvent(r.Type, r.Content))
			}
			continue
		}
		if roomFilter.AllowsEvent(r.RoomID, r.Type, b.req.UserID, false) {
			b.roomData[r.RoomID] = append(b.roomData[r.RoomID], accountEvent(r.Type, r.Content))
		}
	}
	if lim := global.LimitOr(len(events)); len(events) > lim {
		events = events[len(events)-lim:]
	}
	if len(events) > 0 {
		b.resp.AccountData = &RawEvents{Events: events}
		b.resp.changed = true
	}
	return nil
}

func (f *Filter) accountDataFilter() *EventFilter {
	if f == nil {
		return nil
	}
	return f.AccountData
}

// rooms fills the rooms section. An initial (or full-state) sync walks the
// user's memberships; an incremental one reads only the rooms with events,
// account data or ephemeral changes since the token.
func (b *builder) rooms(ctx context.Context) error {
	var memberships []store.RoomMembership
	var err error
	if b.initial || b.req.FullState {
		memberships, err = b.s.st.UserMemberships(ctx, b.req.UserID)
	} else {
		memberships, err = b.changedRooms(ctx)
	}
	if err != nil {
		return err
	}
	rf := b.req.Filter.RoomPart()
	memberships = slices.DeleteFunc(memberships, func(m store.RoomMembership) bool { return !rf.AllowsRoom(m.RoomID) })
	if ok, err := b.roomsParallel(ctx, memberships); ok || err != nil {
		return err // rooms_parallel.go
	}
	for _, m := range memberships {
		if err := b.room(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// changedRooms merges the rooms with new events with those whose account
// data or ephemeral state changed.
func (b *builder) changedRooms(ctx context.Context) ([]store.RoomMembership, error) {
	rows, shared, err := b.changedRoomsShared(ctx)
	if err != nil {
		return nil, err
	}
	if !shared {
		if rows, err = b.s.st.ChangedRooms(ctx, b.req.UserID, b.since[StreamEvents], b.now[StreamEvents]); err != nil {
			return nil, err
		}
	}
	seen := map[string]bool{}
	for _, r := range rows {
		seen[r.RoomID] = true
	}
	extra := make([]string, 0, len(b.roomData))
	for id := range b.roomData {
		extra = append(extra, id)
	}
	more, err := b.ephemeralRooms(ctx)
	if err != nil {
		return nil, err
	}
	extra = append(extra, more...)
	sort.Strings(extra)
	for _, id := range extra {
		if seen[id] {
			continue
		}
		seen[id] = true
		m, err := b.s.st.CurrentMembership(ctx, id, b.req.UserID)
		if err != nil {
			return nil, err
		}
		if m == "join" {
			rows = append(rows, store.RoomMembership{RoomID: id, Membership: m})
		}
	}
	return rows, nil
}

// room adds one room in the section its membership selects.
func (b *builder) room(ctx context.Context, m store.RoomMembership) error {
	switch m.Membership {
	case "join":
		return b.joinedRoom(ctx, m.RoomID)
	case "invite", "knock":
		return b.strippedRoom(ctx, m.RoomID, m.Membership)
	case "leave", "ban":
		if b.initial && !b.req.Filter.RoomPart().IncludeLeave {
			return nil
		}
		return b.leftRoom(ctx, m.RoomID)
	}
	return nil
}

// memberEvent loads the user's current membership event in the room.
func (b *builder) memberEvent(ctx context.Context, roomID string) (models.Event, error) {
	cs, err := b.s.st.CurrentStateRow(ctx, roomID, "m.room.member", b.req.UserID)
	if err != nil {
		return models.Event{}, err
	}
	return b.s.st.EventByID(ctx, cs.EventID)
}
