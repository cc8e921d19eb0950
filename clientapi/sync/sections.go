package sync

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/kabarchat/kabar/models"
)

// joinedRoom adds rooms.join.{roomId}. A room joined after the token is
// sent like on an initial sync: full state and the latest timeline.
func (b *builder) joinedRoom(ctx context.Context, roomID string) error {
	member, err := b.memberPos(ctx, roomID)
	if err != nil {
		return err
	}
	from, full := b.since[StreamEvents], b.initial || b.req.FullState
	if !b.initial && member.StreamPos > from {
		from, full = 0, true
	}
	if b.initial {
		from = 0
	}
	tl, err := b.readTimeline(ctx, roomID, from, b.now[StreamEvents], member.StreamPos)
	if err != nil {
		return err
	}
	state, err := b.stateFor(ctx, roomID, tl, from, full)
	if err != nil {
		return err
	}
	shown := b.filterTimeline(roomID, tl.rows)
	eph, err := b.ephemeral(ctx, roomID)
	if err != nil {
		return err
	}
	data := b.roomData[roomID]
	if !full && len(shown) == 0 && len(state) == 0 && len(eph) == 0 && len(data) == 0 {
		return nil
	}
	jr := b.resp.rooms().join(roomID)
	if jr.Timeline, err = b.timelineSection(ctx, tl, shown); err != nil {
		return err
	}
	if jr.State, err = b.stateSection(ctx, state); err != nil {
		return err
	}
	if len(eph) > 0 {
		jr.Ephemeral = &RawEvents{Events: eph}
	}
	if len(data) > 0 {
		jr.AccountData = &RawEvents{Events: data}
	}
	if err := b.unread(ctx, roomID, jr); err != nil {
		return err
	}
	if full || hasMember(shown) || hasMember(state) {
		if jr.Summary, err = b.summary(ctx, roomID); err != nil {
			return err
		}
	}
	b.resp.changed = true
	return nil
}

// leftRoom adds rooms.leave.{roomId}: the timeline up to the user's leave
// (or ban), on an incremental sync only if that happened after the token.
func (b *builder) leftRoom(ctx context.Context, roomID string) error {
	member, err := b.memberEvent(ctx, roomID)
	if err != nil {
		return err
	}
	if !b.initial && member.StreamPos <= b.since[StreamEvents] {
		return nil
	}
	if done, err := b.outOfBandLeft(ctx, roomID, member); done || err != nil {
		return err // a rejected invite of a room we are not in (outofband.go)
	}
	from := b.since[StreamEvents]
	if b.initial {
		from = 0
	}
	tl, err := b.readTimeline(ctx, roomID, from, member.StreamPos, member.StreamPos+1)
	if err != nil {
		return err
	}
	if tl.rows, err = b.s.opts.Rooms.FilterVisible(ctx, b.req.UserID, tl.rows); err != nil {
		return err
	}
	state, err := b.stateFor(ctx, roomID, tl, from, b.initial)
	if err != nil {
		return err
	}
	lr := &LeftRoom{}
	if lr.Timeline, err = b.timelineSection(ctx, tl, b.filterTimeline(roomID, tl.rows)); err != nil {
		return err
	}
	if lr.State, err = b.stateSection(ctx, state); err != nil {
		return err
	}
	if data := b.roomData[roomID]; len(data) > 0 {
		lr.AccountData = &RawEvents{Events: data}
	}
	r := b.resp.rooms()
	if r.Leave == nil {
		r.Leave = map[string]*LeftRoom{}
	}
	r.Leave[roomID] = lr
	b.resp.changed = true
	return nil
}

func (b *builder) timelineSection(ctx context.Context, tl timelineSlice, shown []models.Event) (*Timeline, error) {
	events, err := b.format(ctx, shown)
	if err != nil {
		return nil, err
	}
	t := &Timeline{Events: events, Limited: tl.limited, PrevBatch: b.now.String()}
	if len(tl.rows) > 0 {
		t.PrevBatch = TopoToken{Depth: tl.rows[0].Depth, Stream: tl.rows[0].StreamPos}.String()
	}
	return t, nil
}

func (b *builder) stateSection(ctx context.Context, rows []models.Event) (*StateEvents, error) {
	events, err := b.format(ctx, rows)
	if err != nil {
		return nil, err
	}
	return &StateEvents{Events: events}, nil
}

func hasMember(rows []models.Event) bool {
	return slices.ContainsFunc(rows, func(r models.Event) bool { return r.Type == "m.room.member" })
}

// summary computes the room summary (sync.yaml RoomSummary).
func (b *builder) summary(ctx context.Context, roomID string) (*Summary, error) {
	joined, invited, err := b.s.st.MemberCounts(ctx, roomID)
	if err != nil {
		return nil, err
	}
	heroes, err := b.s.st.Heroes(ctx, roomID, b.req.UserID, 5)
	if err != nil {
		return nil, err
	}
	return &Summary{Heroes: heroes, JoinedCount: &joined, InvitedCnt: &invited}, nil
}

// strippedTypes are the state events an invite or knock carries
// (client-server-api "Stripped state": the recommended set).
var strippedTypes = map[string]bool{
	"m.room.create": true, "m.room.join_rules": true, "m.room.name": true, "m.room.avatar": true,
	"m.room.canonical_alias": true, "m.room.encryption": true, "m.room.topic": true,
}

// strippedRoom adds rooms.invite or rooms.knock with stripped state, on an
// incremental sync only if the invite or knock came after the token.
func (b *builder) strippedRoom(ctx context.Context, roomID, membership string) error {
	member, err := b.memberEvent(ctx, roomID)
	if err != nil {
		return err
	}
	if !b.initial && member.StreamPos <= b.since[StreamEvents] {
		return nil
	}
	events, err := b.strippedState(ctx, roomID, member)
	if err != nil {
		return err
	}
	r := b.resp.rooms()
	if membership == "invite" {
		if r.Invite == nil {
			r.Invite = map[string]*InvitedRoom{}
		}
		r.Invite[roomID] = &InvitedRoom{InviteState: RawEvents{Events: events}}
	} else {
		if r.Knock == nil {
			r.Knock = map[string]*KnockedRoom{}
		}
		r.Knock[roomID] = &KnockedRoom{KnockState: RawEvents{Events: events}}
	}
	b.resp.changed = true
	return nil
}

// strippedState is what an invite or knock carries: the room's stripped
// state and the user's membership event (sliding sync's invite_state too).
func (b *builder) strippedState(ctx context.Context, roomID string, member models.Event) ([]json.RawMessage, error) {
	current, err := b.s.st.CurrentStateRows(ctx, roomID, "")
	if err != nil {
		return nil, err
	}
	var nids []int64
	for _, cs := range current {
		if strippedTypes[cs.Type] && cs.StateKey == "" {
			nids = append(nids, cs.EventNID)
		}
	}
	rows, err := b.s.st.EventsByNID(ctx, nids)
	if err != nil {
		return nil, err
	}
	events := inviteRoomState(member) // a room we are not in (outofband.go)
	for _, r := range append(rows, member) {
		events = append(events, stripped(r))
	}
	return events, nil
}

// stripped is the StrippedStateEvent form: content, sender, state_key, type.
func stripped(r models.Event) json.RawMessage {
	var ev struct {
		Content json.RawMessage `json:"content"`
	}
	json.Unmarshal([]byte(r.JSON), &ev) // stored events are valid JSON
	out, _ := json.Marshal(struct {
		Content  json.RawMessage `json:"content"`
		Sender   string          `json:"sender"`
		StateKey string          `json:"state_key"`
		Type     string          `json:"type"`
	}{ev.Content, r.Sender, *r.StateKey, r.Type})
	return out
}
