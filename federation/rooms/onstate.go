package rooms

import (
	"context"
	"errors"
	"fmt"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/eventauth"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// suppliedState is the state a remote event is accepted on when its prev
// events are unknown.
type suppliedState struct {
	// sets are state maps as event IDs, one per prev event (the state
	// after it); more than one are resolved.
	sets [][]string
	// events are the state and auth chain events the caller fetched and
	// verified (signatures, hashes); unknown ones are stored as outliers.
	events map[string]*event.Event
	// rebase: we did not take part in the room (a rejoin), so the event
	// replaces the room's extremities and its state becomes current.
	rebase bool
}

// maxSuppliedSets bounds state resolution over fetched states.
const maxSuppliedSets = 10

// AcceptOnState accepts a remote event whose prev events cannot be fetched
// on the state its origin says was there (server-server-api "Checks
// performed on receipt of a PDU": the state before the event is computed
// from the states at its prev events, which a server without them asks the
// origin for with /state_ids and /event). stateSets holds one state per
// prev event as event IDs, the state after it; events holds every fetched
// event those states and their auth chains need, already checked for
// format, signatures and hashes. Each new event must pass its own auth
// events before it is stored; the event itself then goes through steps 4-6
// as usual. rebase is for a room we had left: the event's state replaces
// the room's current state and forward extremities.
func (s *Service) AcceptOnState(ctx context.Context, ev *event.Event, stateSets [][]string, events []*event.Event, rebase bool) (Accepted, error) {
	if len(stateSets) == 0 || len(stateSets) > maxSuppliedSets {
		return Accepted{}, fmt.Errorf("%w: %d state sets", ErrRejected, len(stateSets))
	}
	byID := make(map[string]*event.Event, len(events))
	for _, e := range events {
		if e.RoomID() != ev.RoomID() || e.Version() != ev.Version() {
			return Accepted{}, fmt.Errorf("%w: state event %s is not of room %s", ErrRejected, e.EventID(), ev.RoomID())
		}
		byID[e.EventID()] = e
	}
	return s.accept(ctx, &request{remote: ev, onState: &suppliedState{sets: stateSets, events: byID, rebase: rebase}})
}

func (a *actor) acceptOnState(ctx context.Context, ev *event.Event, sup *suppliedState) *result {
	w := a.w
	if ev.RoomID() != w.room.RoomID || ev.Version() != w.rv {
		return &result{err: fmt.Errorf("%w: event %s is not of room %s", ErrRejected, ev.EventID(), w.room.RoomID)}
	}
	// Already in the timeline, live or backfilled (negative position): an
	// outlier (0) is the only kind that still needs accepting.
	if row, err := w.svc.st.EventByID(ctx, ev.EventID()); err == nil && row.StreamPos != 0 {
		if row.Rejected {
			return &result{err: fmt.Errorf("%w: rejected before", ErrRejected)}
		}
		return &result{EventID: row.EventID, StreamPos: row.StreamPos, softFailed: row.SoftFailed}
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return &result{err: err}
	}
	if err := w.storeOutliers(ctx, sup.events); err != nil {
		return &result{err: err}
	}
	in := &inbound{w: w, ctx: ctx, ev: ev}
	if err := in.checkAuthEvents(); err != nil {
		if errors.Is(err, ErrRejected) && !errors.Is(err, errUnknownAuth) {
			return &result{err: in.reject(err)}
		}
		return &result{err: err}
	}
	if err := in.suppliedBefore(sup); err != nil {
		return &result{err: err}
	}
	if err := eventauth.Check(ev, in.before); err != nil {
		if in.before.err != nil {
			return &result{err: in.before.err}
		}
		return &result{err: in.reject(fmt.Errorf("%w: against the supplied state: %v", ErrRejected, err))}
	}
	softFailed := false
	if !sup.rebase {
		current := &authState{ctx: ctx, w: w}
		softFailed = eventauth.Check(ev, current) != nil
		if current.err != nil {
			return &result{err: current.err}
		}
	}
	return in.finish(softFailed)
}

// suppliedBefore sets the state before the event from the supplied sets.
// The event's prevs for commit are the ones we have; on a rebase they are
// every current extremity instead, so commit replaces them all and takes
// the state after the event as the room's current state.
func (in *inbound) suppliedBefore(sup *suppliedState) error {
	var sets []map[store.StateKey]int64
	for _, ids := range sup.sets {
		rows, err := in.w.svc.st.EventsByID(in.ctx, ids)
		if err != nil {
			return err
		}
		set := make(map[store.StateKey]int64, len(rows))
		for _, r := range rows {
			if r.StateKey == nil || r.RoomID != in.w.room.RoomID {
				return fmt.Errorf("%w: supplied state event %s is not state of the room", ErrRejected, r.EventID)
			}
			if !r.Rejected {
				set[store.StateKey{Type: r.Type, StateKey: *r.StateKey}] = r.EventNID
			}
		}
		if len(rows) != len(ids) {
			return fmt.Errorf("%w: supplied state is incomplete", ErrMissingPrevEvents)
		}
		sets = append(sets, set)
	}
	var err error
	in.beforeEntries = sets[0]
	if len(sets) > 1 {
		if in.beforeEntries, err = in.w.resolve(in.ctx, sets); err != nil {
			return err
		}
	}
	in.baseSnap, in.beforeSnap = in.w.room.SnapshotNID, 0
	prevs := in.ev.PrevEventIDs()
	if sup.rebase {
		prevs = in.w.extremities
	}
	if in.prevs, err = in.w.svc.st.EventsByID(in.ctx, prevs); err != nil {
		return err
	}
	in.before = &nidState{ctx: in.ctx, w: in.w, entries: in.beforeEntries}
	return nil
}

// storeOutliers stores the supplied events we lack, without stream position
// or state (like a send_join's auth chain, import.go), after checking each
// against its auth events, taken from the supplied events or the store.
func (w *writer) storeOutliers(ctx context.Context, events map[string]*event.Event) error {
	ids := mapsKeys(events)
	known, err := w.svc.st.EventsByID(ctx, ids)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, r := range known {
		have[r.EventID] = true
	}
	byID, err := w.withStoredAuth(ctx, events)
	if err != nil {
		return err
	}
	var rows []models.Event
	for id, e := range events {
		if have[id] {
			continue
		}
		if err := checkAgainstAuthEvents(e, byID); err != nil {
			return err
		}
		row, err := w.row(e, 0)
		if err != nil {
			return err
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil
	}
	return w.svc.st.Transaction(ctx, func(tx *store.Store) error {
		return tx.WriteRoom(ctx, &store.RoomWrite{RoomID: w.room.RoomID, Events: rows})
	})
}

// withStoredAuth adds to the supplied events the auth events (and the
// implied create event of rooms/v12) that only the store has. Rejected
// stored events are left out, so an event citing one fails its check.
func (w *writer) withStoredAuth(ctx context.Context, events map[string]*event.Event) (map[string]*event.Event, error) {
	byID := make(map[string]*event.Event, len(events))
	var want []string
	for id, e := range events {
		byID[id] = e
	}
	for _, e := range events {
		for _, a := range append(e.AuthEventIDs(), createEventID(w.rv, w.room.RoomID)) {
			if _, ok := byID[a]; !ok && a != "" {
				want = append(want, a)
			}
		}
	}
	rows, err := w.svc.st.EventsByID(ctx, want)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if r.Rejected || r.RoomID != w.room.RoomID {
			continue
		}
		e, err := event.Parse(w.rv, []byte(r.JSON))
		if err != nil {
			return nil, fmt.Errorf("stored event %s: %w", r.EventID, err)
		}
		byID[r.EventID] = e
	}
	return byID, nil
}

// rejoin accepts our join to a room we knew but whose recent events we
// missed, on the state before it that send_join returned. Unless another
// of our users is still joined, the room restarts from that state.
func (s *Service) rejoin(ctx context.Context, join *event.Event, state []*event.Event, byID map[string]*event.Event) (Accepted, error) {
	in, err := s.Participating(ctx, spec.RoomID(join.RoomID()))
	if err != nil {
		return Accepted{}, err
	}
	ids := make([]string, len(state))
	for i, e := range state {
		ids[i] = e.EventID()
	}
	events := make([]*event.Event, 0, len(byID))
	for _, e := range byID {
		events = append(events, e)
	}
	return s.AcceptOnState(ctx, join, [][]string{ids}, events, !in)
}
