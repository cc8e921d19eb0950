package sync

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/store"
)

// roomState fills a sliding sync room's state-derived fields.
type roomState struct {
	sb       *slidingBuild
	b        *builder
	id       string
	snap     int64
	from, to int64
	initial  bool
	tl       timelineSlice
	// tlComplete says the timeline holds every event after from.
	tlComplete bool
	// lazy are the members the connection has (nil on an initial room);
	// fill replaces it with the set after this response.
	lazy map[string]bool
	// changedMembers are the members whose event changed after from.
	changedMembers map[string]bool
}

// fill sets required_state, and on an initial room (or when the state
// they come from changed) name, avatar, heroes and the member counts.
func (rs *roomState) fill(ctx context.Context, cfg *RoomConfig, r *SlidingRoom) error {
	want := newStateWants(cfg.RequiredState, rs.sb.req.UserID, rs.tl.rows)
	var rows []models.Event
	var err error
	changed := map[string]bool{}
	if rs.initial {
		rows, err = rs.initialState(ctx, want)
	} else {
		rows, changed, err = rs.stateDelta(ctx, want)
	}
	if err != nil {
		return err
	}
	rs.trackLazy(want, rows)
	if r.RequiredState, err = rs.b.format(ctx, rows); err != nil {
		return err
	}
	if len(r.RequiredState) == 0 {
		r.RequiredState = nil
	}
	if rs.initial || changed["m.room.name"] {
		if r.Name, err = rs.field(ctx, "m.room.name", "", "name"); err != nil {
			return err
		}
	}
	if rs.initial || changed["m.room.avatar"] {
		if r.Avatar, err = rs.field(ctx, "m.room.avatar", "", "url"); err != nil {
			return err
		}
	}
	if !rs.initial && !changed["m.room.member"] {
		return nil
	}
	joined, invited, err := rs.sb.s.st.MemberCounts(ctx, rs.id)
	if err != nil {
		return err
	}
	r.JoinedCount, r.InvitedCount = &joined, &invited
	if r.Name == "" {
		r.Heroes, err = rs.heroes(ctx)
	}
	return err
}

// trackLazy updates the members the connection has for $LAZY: those sent
// now join the set; those whose membership changed without being sent
// leave it, so they are sent again when they next speak. The set is
// replaced, not modified: older positions share it.
func (rs *roomState) trackLazy(want stateWants, rows []models.Event) {
	if want.lazy == nil {
		rs.lazy = nil
		return
	}
	sent := map[string]bool{}
	for _, r := range rows {
		if r.Type == "m.room.member" {
			sent[*r.StateKey] = true
		}
	}
	var stale []string
	for u := range rs.changedMembers {
		if !sent[u] && rs.lazy[u] {
			stale = append(stale, u)
		}
	}
	added := false
	for u := range sent {
		added = added || !rs.lazy[u]
	}
	if !added && len(stale) == 0 {
		return
	}
	lazy := make(map[string]bool, len(rs.lazy)+len(sent))
	for u := range rs.lazy {
		lazy[u] = true
	}
	for _, u := range stale {
		delete(lazy, u)
	}
	for u := range sent {
		if len(lazy) >= maxLazyMembers {
			break
		}
		lazy[u] = true
	}
	rs.lazy = lazy
}

// initialState picks the wanted entries of the room's state.
func (rs *roomState) initialState(ctx context.Context, want stateWants) ([]models.Event, error) {
	if want.none() {
		return nil, nil
	}
	entries, err := rs.sb.s.state.Full(ctx, rs.sb.s.st, rs.snap)
	if err != nil {
		return nil, err
	}
	var nids []int64
	for _, e := range entries {
		if want.has(e.Type, e.StateKey.StateKey) {
			nids = append(nids, e.EventNID)
		}
	}
	return rs.sb.s.st.EventsByNID(ctx, nids)
}

// stateDelta is the wanted state that changed after from, plus the
// members of the timeline's senders ($LAZY) the connection does not have
// yet. It also reports which types changed.
func (rs *roomState) stateDelta(ctx context.Context, want stateWants) ([]models.Event, map[string]bool, error) {
	var rows []models.Event
	if rs.tlComplete {
		for _, r := range rs.tl.rows {
			if r.StateKey != nil {
				rows = append(rows, r)
			}
		}
	} else {
		var err error
		if rows, err = rs.sb.s.st.StateEventsBetween(ctx, rs.id, rs.from, rs.to+1); err != nil {
			return nil, nil, err
		}
	}
	rows = latestPerKey(rows)
	rs.changedMembers = map[string]bool{}
	changed := map[string]bool{}
	have := map[string]bool{}
	out := rows[:0:0]
	for _, r := range rows {
		changed[r.Type] = true
		if r.Type == "m.room.member" {
			rs.changedMembers[*r.StateKey] = true
		}
		if want.has(r.Type, *r.StateKey) {
			out = append(out, r)
			if r.Type == "m.room.member" {
				have[*r.StateKey] = true
			}
		}
	}
	var nids []int64
	for u := range want.lazy {
		// A member the connection has, unchanged since, is not sent again.
		if have[u] || rs.lazy[u] {
			continue
		}
		nid, err := rs.sb.s.state.Lookup(ctx, rs.sb.s.st, rs.snap, store.StateKey{Type: "m.room.member", StateKey: u})
		if err == nil {
			nids = append(nids, nid)
		}
	}
	if len(nids) > 0 {
		more, err := rs.sb.s.st.EventsByNID(ctx, nids)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, more...)
	}
	return out, changed, nil
}

// content loads the content of one state event of the snapshot (nil when
// absent).
func (rs *roomState) content(ctx context.Context, typ, key string) (map[string]any, error) {
	nid, err := rs.sb.s.state.Lookup(ctx, rs.sb.s.st, rs.snap, store.StateKey{Type: typ, StateKey: key})
	if errors.Is(err, store.ErrNotFound) || (err == nil && nid == 0) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rows, err := rs.sb.s.st.EventsByNID(ctx, []int64{nid})
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	var ev struct {
		Content map[string]any `json:"content"`
	}
	json.Unmarshal([]byte(rows[0].JSON), &ev) // stored events are valid JSON
	return ev.Content, nil
}

// field is one string field of a state event's content ("" if absent).
func (rs *roomState) field(ctx context.Context, typ, key, name string) (string, error) {
	c, err := rs.content(ctx, typ, key)
	v, _ := c[name].(string)
	return v, err
}

// heroes are the members a client names an unnamed room after, with their
// room profile (the room summary's m.heroes).
func (rs *roomState) heroes(ctx context.Context) ([]Hero, error) {
	ids, err := rs.sb.s.st.Heroes(ctx, rs.id, rs.sb.req.UserID, 5)
	if err != nil {
		return nil, err
	}
	out := make([]Hero, 0, len(ids))
	for _, u := range ids {
		c, err := rs.content(ctx, "m.room.member", u)
		if err != nil {
			return nil, err
		}
		h := Hero{UserID: u}
		h.DisplayName, _ = c["displayname"].(string)
		h.AvatarURL, _ = c["avatar_url"].(string)
		out = append(out, h)
	}
	return out, nil
}

// stateWants is a parsed required_state (MSC4186 "Room config"): exact
// (type, state_key) pairs, every key of a type ("*"), a key of any type,
// everything, $ME and $LAZY for members.
type stateWants struct {
	all     bool
	types   map[string]bool
	keys    map[store.StateKey]bool
	anyType map[string]bool
	// lazy are the members to send for $LAZY: the timeline's senders.
	lazy map[string]bool
}

func newStateWants(required [][]string, me string, timeline []models.Event) stateWants {
	w := stateWants{types: map[string]bool{}, keys: map[store.StateKey]bool{}, anyType: map[string]bool{}}
	for _, rs := range required {
		typ, key := rs[0], rs[1]
		switch {
		case typ == "m.room.member" && key == "$LAZY":
			w.lazy = map[string]bool{}
			for _, r := range timeline {
				w.lazy[r.Sender] = true
			}
		case key == "$ME":
			key = me
			fallthrough
		case typ != "*" && key != "*":
			w.keys[store.StateKey{Type: typ, StateKey: key}] = true
		case typ == "*" && key == "*":
			w.all = true
		case typ == "*":
			w.anyType[key] = true
		default:
			w.types[typ] = true
		}
	}
	return w
}

func (w stateWants) none() bool {
	return !w.all && len(w.types)+len(w.keys)+len(w.anyType)+len(w.lazy) == 0
}

func (w stateWants) has(typ, key string) bool {
	return w.all || w.types[typ] || w.anyType[key] || w.keys[store.StateKey{Type: typ, StateKey: key}] ||
		(typ == "m.room.member" && w.lazy[key])
}
