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

// Accepted is the outcome of a remote event: stored, possibly soft-failed.
type Accepted struct {
	EventID    string
	SoftFailed bool
	StreamPos  int64
}

// ErrMissingPrevEvents: the event refers to prev_events we do not have; the
// caller fetches them (/get_missing_events, /state_ids) and retries.
var ErrMissingPrevEvents = errors.New("missing prev events")

// ErrRejected wraps the reason a remote event failed authorization
// (server-server-api "Rejection"); it is stored marked rejected (reject).
var ErrRejected = errors.New("event rejected")

// errUnknownAuth: auth events we do not have. The event is refused but not
// stored as rejected: with its auth events it may pass.
var errUnknownAuth = errors.New("unknown auth events")

// reject stores the event as rejected (never served, never an extremity,
// and events citing it as an auth event are rejected too) and returns why.
func (in *inbound) reject(why error) error {
	row, err := in.w.row(in.ev, 0)
	if err != nil {
		return err
	}
	row.StateBefore, row.StateAfter = in.beforeSnap, in.beforeSnap
	if err := in.w.svc.st.InsertRejected(in.ctx, row); err != nil && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("store rejected event %s: %w", in.ev.EventID(), err)
	}
	return why
}

// AcceptRemote runs a remote event through the room's actor
// (server-server-api "Checks performed on receipt of a PDU", steps 4-6):
// auth against its auth events, against the state before it (resolved
// across forks), and against the current state, soft-failing it if that
// last check fails. The caller has already checked format, signatures and
// content hash (steps 1-3).
func (s *Service) AcceptRemote(ctx context.Context, ev *event.Event) (Accepted, error) {
	return s.accept(ctx, &request{remote: ev})
}

// AcceptRelayed is AcceptRemote for an event handed to us to pass on: a
// join, leave or knock sent through send_join/send_leave/send_knock, which
// the resident server sends to the other servers in the room
// (server-server-api "Joining Rooms": "the resident server ... sends the
// event to other servers").
func (s *Service) AcceptRelayed(ctx context.Context, ev *event.Event) (Accepted, error) {
	return s.accept(ctx, &request{remote: ev, forward: true})
}

func (s *Service) accept(ctx context.Context, req *request) (Accepted, error) {
	res, err := s.submit(ctx, req.remote.RoomID(), req)
	if err != nil {
		return Accepted{}, err
	}
	return Accepted{EventID: res.EventID, SoftFailed: res.softFailed, StreamPos: res.StreamPos}, nil
}

// processSplit commits local requests before and after a remote event
// separately: a remote event commits alone, with its own state snapshots.
func (a *actor) processSplit(ctx context.Context, reqs []*request) bool {
	for i, req := range reqs {
		if req.remote == nil {
			continue
		}
		if i > 0 {
			a.process(ctx, reqs[:i])
		}
		req.done <- a.processRemote(ctx, req)
		if i+1 < len(reqs) {
			a.process(ctx, reqs[i+1:])
		}
		return true
	}
	return false
}

func (a *actor) processRemote(ctx context.Context, req *request) *result {
	if a.w == nil {
		a.w = &writer{svc: a.svc}
		if err := a.w.load(ctx, a.roomID); err != nil {
			a.w = nil
			return &result{err: err}
		}
	}
	var res *result
	if req.onState != nil {
		res = a.acceptOnState(ctx, req.remote, req.onState)
	} else {
		res = a.acceptRemote(ctx, req.remote, req.forward)
	}
	// The writer's view (extremities, reference hashes, joined members) is
	// reloaded from the database after a remote event.
	a.w = nil
	return res
}

func (a *actor) acceptRemote(ctx context.Context, ev *event.Event, forward bool) *result {
	w := a.w
	if ev.RoomID() != w.room.RoomID || ev.Version() != w.rv {
		return &result{err: spec.BadJSON("event %s is not for room %s of version %s", ev.EventID(), w.room.RoomID, w.rv.ID)}
	}
	if row, err := w.svc.st.EventByID(ctx, ev.EventID()); err == nil {
		if row.Rejected {
			return &result{err: fmt.Errorf("%w: rejected before", ErrRejected)}
		}
		return &result{EventID: row.EventID, StreamPos: row.StreamPos, softFailed: row.SoftFailed}
	} else if !errors.Is(err, store.ErrNotFound) {
		return &result{err: err}
	}
	in := &inbound{w: w, ctx: ctx, ev: ev, forward: forward}
	if err := in.checkAuthEvents(); err != nil {
		if errors.Is(err, ErrRejected) && !errors.Is(err, errUnknownAuth) {
			return &result{err: in.reject(err)}
		}
		return &result{err: err}
	}
	if err := in.stateBefore(); err != nil {
		return &result{err: err}
	}
	if err := eventauth.Check(ev, in.before); err != nil {
		if in.before.err != nil {
			return &result{err: in.before.err}
		}
		return &result{err: in.reject(fmt.Errorf("%w: against the state before it: %v", ErrRejected, err))}
	}
	// Step 6: soft failure against the current state.
	current := &authState{ctx: ctx, w: w}
	softFailed := eventauth.Check(ev, current) != nil
	if current.err != nil {
		return &result{err: current.err}
	}
	return in.finish(softFailed)
}

// inbound is the work on one remote event.
type inbound struct {
	w      *writer
	ctx    context.Context
	ev     *event.Event
	prevs  []models.Event
	before *nidState
	// beforeEntries is the state before the event; beforeSnap its snapshot
	// if it equals one prev event's state after (0 if it must be written).
	beforeEntries map[store.StateKey]int64
	beforeSnap    int64
	baseSnap      int64
	// forward relays a remote event; dests are the servers the event is
	// queued for in its commit (outbox.go).
	forward bool
	dests   []spec.ServerName
}

// checkAuthEvents is step 4: every auth event known, not rejected, of this
// room, the right selection, and the event allowed by them.
func (in *inbound) checkAuthEvents() error {
	ids := in.ev.AuthEventIDs()
	rows, err := in.w.svc.st.EventsByID(in.ctx, ids)
	if err != nil {
		return err
	}
	if len(rows) != len(ids) {
		return fmt.Errorf("%w: %w", ErrRejected, errUnknownAuth)
	}
	evs := make([]eventauth.Event, 0, len(rows)+1)
	var create *event.Event
	if id := createEventID(in.w.rv, in.w.room.RoomID); id != "" {
		// rooms/v12: the create event is implied by the room ID, not listed.
		c, err := in.w.svc.st.EventByID(in.ctx, id)
		if err != nil {
			return fmt.Errorf("create event of %s: %w", in.w.room.RoomID, err)
		}
		if create, err = event.Parse(in.w.rv, []byte(c.JSON)); err != nil {
			return fmt.Errorf("stored create event: %w", err)
		}
	}
	for _, r := range rows {
		if r.Rejected || r.RoomID != in.w.room.RoomID {
			return fmt.Errorf("%w: auth event %s is rejected or from another room", ErrRejected, r.EventID)
		}
		p, err := event.Parse(in.w.rv, []byte(r.JSON))
		if err != nil {
			return fmt.Errorf("stored auth event %s: %w", r.EventID, err)
		}
		evs = append(evs, p)
	}
	if err := eventauth.CheckAuthEvents(in.ev, evs); err != nil {
		return fmt.Errorf("%w: auth events: %v", ErrRejected, err)
	}
	withCreate := evs
	if create != nil {
		withCreate = append(withCreate, create)
	}
	if err := eventauth.Check(in.ev, eventauth.NewAuthEvents(withCreate...)); err != nil {
		return fmt.Errorf("%w: against its auth events: %v", ErrRejected, err)
	}
	return nil
}

// stateBefore is step 5's input: the state after each prev event, resolved
// when they differ (server-server-api "Room State Resolution").
func (in *inbound) stateBefore() error {
	ids := in.ev.PrevEventIDs()
	rows, err := in.w.svc.st.EventsByID(in.ctx, ids)
	if err != nil {
		return err
	}
	if len(rows) != len(ids) {
		return ErrMissingPrevEvents
	}
	for _, r := range rows {
		// An outlier or out-of-band event has no state here: as a prev
		// event it is as good as missing (onstate.go fetches the state).
		if r.StateAfter == 0 {
			return ErrMissingPrevEvents
		}
	}
	in.prevs = rows
	snaps := map[int64]bool{}
	for _, r := range rows {
		snaps[r.StateAfter] = true
	}
	in.baseSnap = rows[0].StateAfter
	if len(snaps) == 1 {
		in.beforeSnap = in.baseSnap
		in.beforeEntries, err = in.entries(in.baseSnap)
	} else {
		var sets []map[store.StateKey]int64
		for snap := range snaps {
			e, err := in.entries(snap)
			if err != nil {
				return err
			}
			sets = append(sets, e)
		}
		in.beforeEntries, err = in.w.resolve(in.ctx, sets)
	}
	if err != nil {
		return err
	}
	in.before = &nidState{ctx: in.ctx, w: in.w, entries: in.beforeEntries}
	return nil
}

// nidState shows a state map to eventauth, loading events on demand.
type nidState struct {
	ctx     context.Context
	w       *writer
	entries map[store.StateKey]int64
	err     error
}

// Get implements eventauth.AuthState; it returns an untyped nil if unset.
func (s *nidState) Get(eventType, stateKey string) eventauth.Event {
	nid, ok := s.entries[store.StateKey{Type: eventType, StateKey: stateKey}]
	if !ok || nid == 0 {
		return nil
	}
	ev, err := s.w.eventByNID(s.ctx, nid)
	if err != nil {
		s.err = err
		return nil
	}
	return ev
}

func (in *inbound) entries(snap int64) (map[store.StateKey]int64, error) {
	full, err := in.w.svc.state.Full(in.ctx, in.w.svc.st, snap)
	if err != nil {
		return nil, err
	}
	m := make(map[store.StateKey]int64, len(full))
	for _, e := range full {
		m[e.StateKey] = e.EventNID
	}
	return m, nil
}

// createEventID is the create event's ID in room versions where the room ID
// is derived from it (rooms/v12), "" otherwise.
func createEventID(rv *event.RoomVersion, roomID string) string {
	if !rv.RoomIDFromCreate || len(roomID) < 2 {
		return ""
	}
	return "$" + roomID[1:]
}
