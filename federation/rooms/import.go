package rooms

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/eventauth"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// ImportJoin stores a room we joined through another server: the room state
// and auth chain from send_join and our join event (server-server-api
// "Joining Rooms"). The caller has verified every event's signatures and
// content hash. Each state and auth chain event must be allowed by its own
// auth events, and the join by the state: a resident server cannot hand us
// a state the auth rules forbid.
func (s *Service) ImportJoin(ctx context.Context, join *event.Event, state, authChain []*event.Event) (Sent, error) {
	rv := join.Version()
	roomID := join.RoomID()
	byID := map[string]*event.Event{}
	for _, e := range slices.Concat(authChain, state) {
		if e.RoomID() != roomID || e.Version() != rv {
			return Sent{}, spec.BadJSON("event %s is not of room %s", e.EventID(), roomID)
		}
		byID[e.EventID()] = e
	}
	for _, e := range byID {
		if err := checkAgainstAuthEvents(e, byID); err != nil {
			return Sent{}, err
		}
	}
	current := eventauth.AuthEvents{}
	var create *event.Event
	for _, e := range state {
		if !e.IsState() {
			return Sent{}, spec.BadJSON("state event %s has no state_key", e.EventID())
		}
		current[eventauth.StateKeyTuple{EventType: e.Type(), StateKey: *e.StateKey()}] = e
		if e.Type() == eventauth.TypeCreate {
			create = e
		}
	}
	if create == nil {
		return Sent{}, spec.BadJSON("the room state has no m.room.create event")
	}
	if err := eventauth.Check(join, current); err != nil {
		return Sent{}, fmt.Errorf("%w: our join against the returned state: %v", ErrRejected, err)
	}
	return s.writeImport(ctx, join, state, byID, create)
}

// checkAgainstAuthEvents is step 4 of the PDU checks for an imported event.
func checkAgainstAuthEvents(e *event.Event, byID map[string]*event.Event) error {
	var auth []eventauth.Event
	for _, id := range e.AuthEventIDs() {
		a, ok := byID[id]
		if !ok {
			return fmt.Errorf("%w: auth event %s of %s is missing from the auth chain", ErrRejected, id, e.EventID())
		}
		auth = append(auth, a)
	}
	if err := eventauth.CheckAuthEvents(e, auth); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrRejected, e.EventID(), err)
	}
	if id := createEventID(e.Version(), e.RoomID()); id != "" && e.Type() != eventauth.TypeCreate {
		c, ok := byID[id]
		if !ok {
			return fmt.Errorf("%w: the create event is missing from the auth chain", ErrRejected)
		}
		auth = append(auth, c)
	}
	if err := eventauth.Check(e, eventauth.NewAuthEvents(auth...)); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrRejected, e.EventID(), err)
	}
	return nil
}

// writeImport stores the auth chain and state as outliers (no stream
// position: they are not timeline events), then the join on top of the
// state as the room's first timeline event and only forward extremity.
func (s *Service) writeImport(ctx context.Context, join *event.Event, state []*event.Event, byID map[string]*event.Event, create *event.Event) (Sent, error) {
	roomID := join.RoomID()
	if _, err := s.st.Room(ctx, roomID); err == nil {
		// Already known (a rejoin): the join goes through the room's actor,
		// on the returned state if we missed what came since (onstate.go).
		acc, err := s.AcceptRemote(ctx, join)
		if errors.Is(err, ErrMissingPrevEvents) {
			acc, err = s.rejoin(ctx, join, state, byID)
		}
		return Sent{EventID: acc.EventID, StreamPos: acc.StreamPos}, err
	} else if !errors.Is(err, store.ErrNotFound) {
		return Sent{}, err
	}
	known, err := s.st.EventsByID(ctx, mapsKeys(byID))
	if err != nil {
		return Sent{}, err
	}
	nidOf := map[string]int64{}
	for _, r := range known {
		nidOf[r.EventID] = r.EventNID
	}
	w := &writer{svc: s, rv: join.Version(), room: models.Room{RoomID: roomID}}
	var rows []models.Event
	for id, e := range byID {
		if _, ok := nidOf[id]; ok {
			continue
		}
		row, err := w.row(e, 0)
		if err != nil {
			return Sent{}, err
		}
		nidOf[id] = row.EventNID
		rows = append(rows, row)
	}
	res := s.stream.Reserve(1)
	defer res.Done()
	joinRow, err := w.row(join, res.First)
	if err != nil {
		return Sent{}, err
	}
	entries := make([]store.StateEntry, 0, len(state)+1)
	for _, e := range state {
		entries = append(entries, store.StateEntry{StateKey: store.StateKey{Type: e.Type(), StateKey: *e.StateKey()}, EventNID: nidOf[e.EventID()]})
	}
	err = s.st.Transaction(ctx, func(tx *store.Store) error {
		before, err := s.state.Apply(ctx, tx, roomID, 0, entries)
		if err != nil {
			return err
		}
		after, err := s.state.Apply(ctx, tx, roomID, before, []store.StateEntry{{StateKey: store.StateKey{Type: join.Type(), StateKey: *join.StateKey()}, EventNID: joinRow.EventNID}})
		if err != nil {
			return err
		}
		joinRow.StateBefore, joinRow.StateAfter = before, after
		wr := &store.RoomWrite{RoomID: roomID, Events: append(rows, joinRow), ExtremitiesAdded: []string{join.EventID()},
			NewRoom: &models.Room{RoomID: roomID, Version: join.Version().ID, Creator: create.Sender(), SnapshotNID: after, CreatedAt: s.opts.Now().UnixMilli()}}
		wr.CurrentState, err = importCurrent(ctx, tx, roomID, append(entries, store.StateEntry{StateKey: store.StateKey{Type: join.Type(), StateKey: *join.StateKey()}, EventNID: joinRow.EventNID}), append(rows, joinRow))
		if err != nil {
			return err
		}
		return tx.WriteRoom(ctx, wr)
	})
	if err != nil {
		return Sent{}, fmt.Errorf("import joined room %s: %w", roomID, err)
	}
	res.Done()
	s.opts.Notifier.Notify(res.Last, []string{join.Sender()})
	return Sent{EventID: join.EventID(), StreamPos: res.Last}, nil
}

// importCurrent builds the current_state rows of an imported room.
func importCurrent(ctx context.Context, tx *store.Store, roomID string, entries []store.StateEntry, fresh []models.Event) ([]models.CurrentState, error) {
	byNID := map[int64]models.Event{}
	for _, r := range fresh {
		byNID[r.EventNID] = r
	}
	var missing []int64
	for _, e := range entries {
		if _, ok := byNID[e.EventNID]; !ok {
			missing = append(missing, e.EventNID)
		}
	}
	old, err := tx.EventsByNID(ctx, missing)
	if err != nil {
		return nil, err
	}
	for _, r := range old {
		byNID[r.EventNID] = r
	}
	// A later entry replaces an earlier one of the same key (our join after
	// our invite in the returned state): one row per key, or Postgres
	// refuses the upsert ("cannot affect row a second time").
	out := make([]models.CurrentState, 0, len(entries))
	at := make(map[store.StateKey]int, len(entries))
	for _, e := range entries {
		r := byNID[e.EventNID]
		row := models.CurrentState{RoomID: roomID, Type: e.Type, StateKey: e.StateKey.StateKey,
			EventNID: r.EventNID, EventID: r.EventID, Membership: r.Membership}
		if i, ok := at[e.StateKey]; ok {
			out[i] = row
			continue
		}
		at[e.StateKey] = len(out)
		out = append(out, row)
	}
	return out, nil
}

func mapsKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// BuildEvent builds and authorizes an event on top of the room's current
// state without committing it: the first half of an invite to a remote
// user, which the invitee's server must countersign (server-server-api
// "Inviting to a room") before AcceptRemote stores it.
func (s *Service) BuildEvent(ctx context.Context, roomID spec.RoomID, p Proto) (*event.Event, error) {
	w := &writer{svc: s}
	if err := w.load(ctx, string(roomID)); err != nil {
		return nil, err
	}
	return w.add(ctx, newBatch(w), &p)
}

// StoreInvite keeps an invite of one of our users that another server sent
// through /invite. In a room we take part in it goes through the room's
// actor; otherwise it is stored out of band (outofband.go), so the
// invitee's /sync sees it without the room's state.
func (s *Service) StoreInvite(ctx context.Context, ev *event.Event) error {
	in, err := s.Participating(ctx, spec.RoomID(ev.RoomID()))
	if err != nil {
		return err
	}
	if in {
		_, err := s.AcceptRemote(ctx, ev)
		return err
	}
	return s.StoreOutOfBand(ctx, ev)
}
