package rooms

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// persist commits a batch in one transaction and then, once it is durable
// and readable, notifies and hands the events to the outbox. It returns the
// stream position of the batch's last event.
func (w *writer) persist(ctx context.Context, b *batch) (int64, error) {
	if len(b.events) == 0 {
		return w.svc.stream.Current(), nil
	}
	res := w.svc.stream.Reserve(len(b.events))
	defer res.Done() // after commit or rollback: a failed batch leaves a gap
	rows := make([]models.Event, len(b.events))
	snap := w.room.SnapshotNID
	dests, err := w.destinations(ctx, b.events)
	if err != nil {
		return 0, err
	}
	err = w.svc.st.Transaction(ctx, func(tx *store.Store) error {
		if err := tx.Enqueue(ctx, queueRows(b.events, dests, w.svc.opts.Now().UnixMilli())); err != nil {
			return err
		}
		wr := &store.RoomWrite{RoomID: w.room.RoomID, NewRoom: b.newRoom, NewAlias: b.newAlias, TxnIDs: b.txns,
			ExtremitiesRemoved: b.oldExtr, ExtremitiesAdded: w.extremities, Redactions: map[string]string{}}
		current := map[store.StateKey]int{}
		for i, ev := range b.events {
			row, err := w.row(ev, res.First+int64(i))
			if err != nil {
				return err
			}
			row.StateBefore = snap
			if sk := ev.StateKey(); sk != nil {
				key := store.StateKey{Type: ev.Type(), StateKey: *sk}
				snap, err = w.svc.state.Apply(ctx, tx, w.room.RoomID, snap, []store.StateEntry{{StateKey: key, EventNID: row.EventNID}})
				if err != nil {
					return err
				}
				cs := models.CurrentState{RoomID: w.room.RoomID, Type: key.Type, StateKey: key.StateKey,
					EventNID: row.EventNID, EventID: row.EventID, Membership: row.Membership}
				if j, ok := current[key]; ok {
					wr.CurrentState[j] = cs // one row per key: a multi-row upsert may not touch a row twice
				} else {
					current[key] = len(wr.CurrentState)
					wr.CurrentState = append(wr.CurrentState, cs)
				}
			}
			row.StateAfter = snap
			if r := ev.Redacts(); r != "" && ev.Type() == "m.room.redaction" {
				wr.Redactions[r] = ev.EventID()
			}
			rows[i] = row
		}
		wr.Events = rows
		if snap != w.room.SnapshotNID {
			wr.SnapshotNID = snap
		}
		if b.newRoom != nil {
			b.newRoom.SnapshotNID = snap
		}
		return tx.WriteRoom(ctx, wr)
	})
	if err != nil {
		return 0, fmt.Errorf("persist %d events in %s: %w", len(b.events), w.room.RoomID, err)
	}
	w.room.SnapshotNID = snap
	for i, ev := range b.events {
		if ev.IsState() {
			w.stateEvents[rows[i].EventNID] = ev
		}
	}
	res.Done()
	w.afterCommit(ctx, b, res.Last)
	if len(dests) > 0 {
		w.svc.opts.Outbox.Queued(dests)
	}
	return res.Last, nil
}

// row turns an event into its stored form.
func (w *writer) row(ev *event.Event, pos int64) (models.Event, error) {
	row := models.Event{
		EventNID: w.svc.nextNID.Add(1), EventID: ev.EventID(), RoomID: w.room.RoomID,
		Type: ev.Type(), StateKey: ev.StateKey(), Sender: ev.Sender(), Depth: ev.Depth(),
		OriginServerTS: ev.OriginServerTS(), StreamPos: pos, JSON: string(ev.JSON()),
	}
	if ev.Type() == "m.room.member" {
		row.Membership = membershipOf(ev)
	}
	return row, nil
}

func membershipOf(ev *event.Event) string {
	var c struct {
		Membership string `json:"membership"`
	}
	json.Unmarshal(ev.Content(), &c) // validated by the auth rules already
	return c.Membership
}

// afterCommit updates the joined-member view and wakes readers.
func (w *writer) afterCommit(ctx context.Context, b *batch, pos int64) {
	if err := w.loadJoined(ctx); err != nil {
		w.svc.log.Warn("load joined members", "room", w.room.RoomID, "err", err)
		return
	}
	extra := map[string]bool{}
	for _, ev := range b.events {
		if ev.Type() != "m.room.member" || ev.StateKey() == nil {
			continue
		}
		user := *ev.StateKey()
		extra[user] = true
		w.setJoined(user, membershipOf(ev) == "join")
	}
	if w.joinedList == nil {
		w.joinedList = make([]string, 0, len(w.joined))
		for u := range w.joined {
			w.joinedList = append(w.joinedList, u)
		}
	}
	users := w.joinedList
	for u := range extra {
		if !w.joined[u] {
			if len(users) == len(w.joinedList) { // copy before appending
				users = append(make([]string, 0, len(users)+len(extra)), users...)
			}
			users = append(users, u)
		}
	}
	w.svc.opts.Notifier.Notify(pos, users)
}

func (w *writer) loadJoined(ctx context.Context) error {
	if w.joined != nil {
		return nil
	}
	users, err := w.svc.st.MembersWith(ctx, w.room.RoomID, "join")
	if err != nil {
		return err
	}
	w.joined, w.servers = map[string]bool{}, map[spec.ServerName]int{}
	for _, u := range users {
		w.setJoined(u, true)
	}
	return nil
}

func (w *writer) setJoined(user string, joined bool) {
	server := spec.UserID(user).Server()
	switch {
	case joined && !w.joined[user]:
		w.joinedList = nil
		w.joined[user] = true
		w.servers[server]++
	case !joined && w.joined[user]:
		w.joinedList = nil
		delete(w.joined, user)
		if w.servers[server]--; w.servers[server] <= 0 {
			delete(w.servers, server)
		}
	}
}
