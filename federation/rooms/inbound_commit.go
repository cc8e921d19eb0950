package rooms

import (
	"context"
	"fmt"
	"slices"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/stateres"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// resolve runs state resolution over state maps of NIDs. extra holds events
// not stored yet (the event being accepted).
func (w *writer) resolve(ctx context.Context, sets []map[store.StateKey]int64, extra ...*event.Event) (map[store.StateKey]int64, error) {
	var nids []int64
	for _, set := range sets {
		for _, nid := range set {
			nids = append(nids, nid)
		}
	}
	slices.Sort(nids)
	rows, err := w.svc.st.EventsByNID(ctx, slices.Compact(nids))
	if err != nil {
		return nil, err
	}
	idOf, nidOf := map[int64]string{}, map[string]int64{}
	for _, r := range rows {
		idOf[r.EventNID], nidOf[r.EventID] = r.EventID, r.EventNID
	}
	extras := map[string]*event.Event{}
	for _, e := range extra {
		extras[e.EventID()] = e
	}
	maps := make([]stateres.StateMap, len(sets))
	for i, set := range sets {
		maps[i] = stateres.StateMap{}
		for k, nid := range set {
			id, ok := idOf[nid]
			if !ok {
				id = pendingID(nid, extra)
			}
			maps[i][stateres.StateKey{EventType: k.Type, StateKey: k.StateKey}] = id
		}
	}
	load := func(ids []string) (map[string]stateres.Event, error) {
		out := map[string]stateres.Event{}
		var want []string
		for _, id := range ids {
			if e, ok := extras[id]; ok {
				out[id] = e
			} else {
				want = append(want, id)
			}
		}
		rows, err := w.svc.st.EventsByID(ctx, want)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			e, err := event.Parse(w.rv, []byte(r.JSON))
			if err != nil {
				return nil, fmt.Errorf("stored event %s: %w", r.EventID, err)
			}
			out[r.EventID] = e
		}
		return out, nil
	}
	resolved, err := stateres.Resolve(w.rv, maps, load)
	if err != nil {
		return nil, fmt.Errorf("resolve state of %s: %w", w.room.RoomID, err)
	}
	out := make(map[store.StateKey]int64, len(resolved))
	for k, id := range resolved {
		nid, ok := nidOf[id]
		if !ok {
			nid = pendingNID(id, sets, extra)
		}
		out[store.StateKey{Type: k.EventType, StateKey: k.StateKey}] = nid
	}
	return out, nil
}

// pendingNID/pendingID map the one not-yet-stored event: it is given a
// negative placeholder NID (-1) until its row exists.
func pendingID(nid int64, extra []*event.Event) string {
	if nid == -1 && len(extra) > 0 {
		return extra[0].EventID()
	}
	return ""
}

func pendingNID(id string, _ []map[store.StateKey]int64, extra []*event.Event) int64 {
	if len(extra) > 0 && extra[0].EventID() == id {
		return -1
	}
	return 0
}

// diff lists the changes that turn from into to (EventNID 0 removes a key).
func diff(from, to map[store.StateKey]int64) []store.StateEntry {
	var out []store.StateEntry
	for k, nid := range to {
		if from[k] != nid {
			out = append(out, store.StateEntry{StateKey: k, EventNID: nid})
		}
	}
	for k := range from {
		if _, ok := to[k]; !ok {
			out = append(out, store.StateEntry{StateKey: k})
		}
	}
	return out
}

// commit stores the accepted event with its state before and after and, if
// it did not soft-fail, moves the room's current state and extremities.
func (in *inbound) commit(softFailed bool) (int64, error) {
	w := in.w
	ev := in.ev
	res := w.svc.stream.Reserve(1)
	defer res.Done()
	row, err := w.row(ev, res.First)
	if err != nil {
		return 0, err
	}
	row.SoftFailed = softFailed
	after := in.beforeEntries
	if sk := ev.StateKey(); sk != nil {
		after = cloneState(in.beforeEntries)
		after[store.StateKey{Type: ev.Type(), StateKey: *sk}] = -1 // this event, NID filled below
	}
	var newCurrent map[store.StateKey]int64
	var curEntries map[store.StateKey]int64
	wr := &store.RoomWrite{RoomID: w.room.RoomID}
	if !softFailed {
		curEntries, err = in.entries(w.room.SnapshotNID)
		if err != nil {
			return 0, err
		}
		newCurrent, err = in.newCurrent(curEntries, after)
		if err != nil {
			return 0, err
		}
		wr.ExtremitiesAdded = []string{ev.EventID()}
		for _, p := range in.prevs {
			if slices.Contains(w.extremities, p.EventID) {
				wr.ExtremitiesRemoved = append(wr.ExtremitiesRemoved, p.EventID)
			}
		}
	}
	fill := func(m map[store.StateKey]int64) {
		for k, nid := range m {
			if nid == -1 {
				m[k] = row.EventNID
			}
		}
	}
	fill(after)
	fill(newCurrent)
	if !softFailed {
		if in.dests, err = in.outboundDests(); err != nil {
			return 0, err
		}
	}
	err = w.svc.st.Transaction(in.ctx, func(tx *store.Store) error {
		if err := tx.Enqueue(in.ctx, queueRows([]*event.Event{ev}, in.dests, w.svc.opts.Now().UnixMilli())); err != nil {
			return err
		}
		return in.write(tx, wr, &row, after, curEntries, newCurrent)
	})
	if err != nil {
		return 0, fmt.Errorf("persist remote event %s: %w", ev.EventID(), err)
	}
	res.Done()
	in.advanced = in.advance(wr, &row, softFailed)
	return res.Last, nil
}

// advance moves the writer's view past the committed event, as a reload
// from the database would see it, and reports whether it could: a
// soft-failed event changes neither the current state nor the extremities;
// an event on top of every extremity becomes the only one. An event that
// leaves a fork (other extremities stay) gets the view reloaded instead.
func (in *inbound) advance(wr *store.RoomWrite, row *models.Event, softFailed bool) bool {
	w, ev := in.w, in.ev
	if ev.IsState() && w.stateEvents != nil {
		if len(w.stateEvents) > 1024 {
			clear(w.stateEvents)
		}
		w.stateEvents[row.EventNID] = ev
	}
	if softFailed {
		return true
	}
	if len(wr.ExtremitiesRemoved) != len(w.extremities) {
		return false
	}
	if w.rv.EventFormat == 1 {
		h, err := ev.ReferenceHash()
		if err != nil {
			return false
		}
		w.refHashes = map[string][32]byte{ev.EventID(): h}
	}
	if wr.SnapshotNID != 0 {
		w.room.SnapshotNID = wr.SnapshotNID
	}
	w.extremities, w.depth = []string{ev.EventID()}, ev.Depth()
	isMember := ev.Type() == "m.room.member" && ev.StateKey() != nil
	switch {
	case w.joined == nil:
	case in.memberChanges == 0:
	case in.memberChanges == 1 && isMember:
		w.setJoined(*ev.StateKey(), row.Membership == "join")
	default: // the state before it differed from the current state: reload
		w.joined, w.servers, w.joinedList = nil, nil, nil
	}
	return true
}

func cloneState(m map[store.StateKey]int64) map[store.StateKey]int64 {
	out := make(map[store.StateKey]int64, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// newCurrent is the room's state after the event: the state after it when
// it builds on every current extremity, otherwise the resolution of the
// current state and the state after it.
func (in *inbound) newCurrent(cur, after map[store.StateKey]int64) (map[store.StateKey]int64, error) {
	covered := true
	for _, x := range in.w.extremities {
		covered = covered && slices.ContainsFunc(in.prevs, func(p models.Event) bool { return p.EventID == x })
	}
	if covered {
		return cloneState(after), nil
	}
	return in.w.resolve(in.ctx, []map[store.StateKey]int64{cur, after}, in.ev)
}

// write runs inside the transaction: snapshots, the row, current state.
func (in *inbound) write(tx *store.Store, wr *store.RoomWrite, row *models.Event, after, cur, newCurrent map[store.StateKey]int64) error {
	w, ctx := in.w, in.ctx
	var err error
	before := in.beforeSnap
	if before == 0 {
		base, err := in.entries(in.baseSnap)
		if err != nil {
			return err
		}
		if before, err = w.svc.state.Apply(ctx, tx, w.room.RoomID, in.baseSnap, diff(base, in.beforeEntries)); err != nil {
			return err
		}
	}
	row.StateBefore, row.StateAfter = before, before
	if ev := in.ev; ev.IsState() {
		key := store.StateKey{Type: ev.Type(), StateKey: *ev.StateKey()}
		row.StateAfter, err = w.svc.state.Apply(ctx, tx, w.room.RoomID, before, []store.StateEntry{{StateKey: key, EventNID: row.EventNID}})
		if err != nil {
			return err
		}
	}
	wr.Events = []models.Event{*row}
	if newCurrent != nil {
		changes := diff(cur, newCurrent)
		if err := in.applyRedaction(tx, wr); err != nil {
			return err
		}
		var removed []store.StateKey
		for _, c := range changes {
			if c.Type == "m.room.member" {
				in.memberChanges++
			}
			if c.EventNID == 0 {
				removed = append(removed, c.StateKey)
			}
		}
		if err := tx.DeleteCurrentState(ctx, w.room.RoomID, removed); err != nil {
			return err
		}
		if len(changes) > 0 {
			if wr.SnapshotNID, err = w.svc.state.Apply(ctx, tx, w.room.RoomID, w.room.SnapshotNID, changes); err != nil {
				return err
			}
			if wr.CurrentState, err = in.currentRows(tx, changes, row); err != nil {
				return err
			}
		}
	}
	return tx.WriteRoom(ctx, wr)
}

// currentRows turns state changes into current_state rows (removed keys
// are deleted by write).
func (in *inbound) currentRows(tx *store.Store, changes []store.StateEntry, self *models.Event) ([]models.CurrentState, error) {
	var nids []int64
	for _, c := range changes {
		if c.EventNID != 0 && c.EventNID != self.EventNID {
			nids = append(nids, c.EventNID)
		}
	}
	rows, err := tx.EventsByNID(in.ctx, nids)
	if err != nil {
		return nil, err
	}
	byNID := map[int64]models.Event{self.EventNID: *self}
	for _, r := range rows {
		byNID[r.EventNID] = r
	}
	var out []models.CurrentState
	for _, c := range changes {
		r, ok := byNID[c.EventNID]
		if !ok {
			continue
		}
		out = append(out, models.CurrentState{RoomID: in.w.room.RoomID, Type: c.Type, StateKey: c.StateKey.StateKey,
			EventNID: r.EventNID, EventID: r.EventID, Membership: r.Membership})
	}
	return out, nil
}

// notify wakes the room's joined users and the target of a membership
// event. The members come from the writer's view when it was moved past the
// event (advance), without a read per event.
func (in *inbound) notify(pos int64) {
	var users []string
	var err error
	if in.advanced {
		if err = in.w.loadJoined(in.ctx); err == nil {
			users = in.w.joinedList
			if users == nil {
				users = make([]string, 0, len(in.w.joined))
				for u := range in.w.joined {
					users = append(users, u)
				}
				in.w.joinedList = users
			}
		}
	} else {
		users, err = in.w.svc.st.MembersWith(in.ctx, in.w.room.RoomID, "join")
	}
	if err != nil {
		in.w.svc.log.Warn("members to notify", "room", in.w.room.RoomID, "err", err)
	}
	if in.ev.Type() == "m.room.member" && in.ev.StateKey() != nil && !slices.Contains(users, *in.ev.StateKey()) {
		users = append(slices.Clip(users), *in.ev.StateKey())
	}
	in.w.svc.opts.Notifier.Notify(pos, users)
}

// outboundDests lists the servers an accepted event is queued for: our own
// events that came back through AcceptRemote (an invite countersigned by
// the invitee's server), and relayed joins and leaves, go to every other
// server in the room; anything else is the origin's to send.
func (in *inbound) outboundDests() ([]spec.ServerName, error) {
	sender, err := spec.ParseUserID(in.ev.Sender())
	if err != nil {
		return nil, nil
	}
	own := sender.Server() == in.w.svc.opts.ServerName
	if !own && !in.forward {
		return nil, nil
	}
	users, err := in.w.svc.st.MembersWith(in.ctx, in.w.room.RoomID, "join")
	if err != nil {
		return nil, err
	}
	return in.w.svc.serversOf(users, sender.Server()), nil
}

// finish commits an event that passed auth, wakes readers and queues it for
// the servers that should receive it (shared by the /send and
// supplied-state paths).
func (in *inbound) finish(softFailed bool) *result {
	pos, err := in.commit(softFailed)
	if err != nil {
		return &result{err: err}
	}
	in.notify(pos)
	if len(in.dests) > 0 {
		in.w.svc.opts.Outbox.Queued(in.dests)
	}
	return &result{EventID: in.ev.EventID(), StreamPos: pos, softFailed: softFailed}
}
