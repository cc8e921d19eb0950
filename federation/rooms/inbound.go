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

// processSplit commits local requests before and after a run of remote
// events separately; the run's events are checked one by one and committed
// in groups where they can be (inbound_group.go).
func (a *actor) processSplit(ctx context.Context, reqs []*request) bool {
	i := slices.IndexFunc(reqs, func(r *request) bool { return r.remote != nil })
	if i < 0 {
		return false
	}
	if i > 0 {
		a.process(ctx, reqs[:i])
	}
	j := i
	for j < len(reqs) && reqs[j].remote != nil {
		j++
	}
	g := &group{}
	g.preloadRun(ctx, a.svc.st, reqs[i:j])
	for _, req := range reqs[i:j] {
		if res := a.processRemote(ctx, req, g); res != nil {
			req.done <- res
		}
	}
	a.flush(ctx, g)
	if j < len(reqs) {
		a.process(ctx, reqs[j:])
	}
	return true
}

// processRemote accepts one remote event. It returns nil when the event
// joined the group g; its result is sent when the group commits.
func (a *actor) processRemote(ctx context.Context, req *request, g *group) *result {
	if req.onState != nil || g.has(req.remote.EventID()) {
		a.flush(ctx, g)
	}
	if req.onState != nil {
		g.markSeen(req.remote.EventID()) // it may be stored below
	}
	if a.w == nil {
		a.w = &writer{svc: a.svc}
		if err := a.w.load(ctx, a.roomID); err != nil {
			a.w = nil
			return &result{err: err}
		}
	}
	var res *result
	keep := false
	if req.onState != nil {
		res = a.acceptOnState(ctx, req.remote, req.onState)
	} else {
		res, keep = a.acceptRemote(ctx, req, g)
	}
	// The writer's view (extremities, reference hashes, joined members,
	// parsed state events) stays when the event left it exact (advance);
	// otherwise it is reloaded from the database. Keeping it spares the
	// PDUs of a transaction the room's reload and the state events' reads.
	if !keep {
		a.flush(ctx, g)
		a.w = nil
	}
	return res
}

// acceptRemote runs steps 4-6 on a remote event. keep reports that the
// writer's view is still exact afterwards: nothing was written, the event
// was stored rejected, or it was committed or staged on top of the view. A
// nil result means the event joined g.
func (a *actor) acceptRemote(ctx context.Context, req *request, g *group) (res *result, keep bool) {
	w, ev := a.w, req.remote
	if ev.RoomID() != w.room.RoomID || ev.Version() != w.rv {
		return &result{err: spec.BadJSON("event %s is not for room %s of version %s", ev.EventID(), w.room.RoomID, w.rv.ID)}, true
	}
	in := &inbound{w: w, ctx: ctx, ev: ev, forward: req.forward}
	// One read for the event itself, its auth events, its prev events and
	// (rooms/v12) the create event, instead of one each.
	if err := in.preload(g); err != nil {
		return &result{err: err}, false
	}
	if row, ok := in.known[ev.EventID()]; ok {
		if row.Rejected {
			return &result{err: fmt.Errorf("%w: rejected before", ErrRejected)}, true
		}
		return &result{EventID: row.EventID, StreamPos: row.StreamPos, softFailed: row.SoftFailed}, true
	}
	if err := in.checkAuthEvents(); err != nil {
		if errors.Is(err, ErrRejected) && !errors.Is(err, errUnknownAuth) {
			err = in.reject(err)
			return &result{err: err}, errors.Is(err, ErrRejected)
		}
		return &result{err: err}, errors.Is(err, ErrRejected)
	}
	if err := in.stateBefore(); err != nil {
		return &result{err: err}, errors.Is(err, ErrMissingPrevEvents)
	}
	if err := eventauth.Check(ev, in.before); err != nil {
		if in.before.err != nil {
			return &result{err: in.before.err}, false
		}
		err = in.reject(fmt.Errorf("%w: against the state before it: %v", ErrRejected, err))
		return &result{err: err}, errors.Is(err, ErrRejected)
	}
	// Step 6: soft failure against the current state.
	current := &authState{ctx: ctx, w: w}
	softFailed := eventauth.Check(ev, current) != nil
	if current.err != nil {
		return &result{err: current.err}, false
	}
	if in.stageable(softFailed) {
		g.stage(in, req, softFailed)
		return nil, true
	}
	// Committed alone, after the group it may build on.
	if err := a.flush(ctx, g); err != nil {
		return &result{err: err}, false
	}
	res = in.finish(softFailed)
	return res, res.err == nil && in.advanced
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
	// known holds the rows preload read, by event ID (nil: read on demand,
	// as the supplied-state path does).
	known map[string]models.Event
	// advanced: the commit moved the writer's view past the event;
	// memberChanges counts the m.room.member keys it changed in the
	// current state.
	advanced      bool
	memberChanges int
}

// preload reads the event's own row (if stored before), its auth and prev
// events and the implied create event in one query; events of the group g
// not committed yet are taken from it.
func (in *inbound) preload(g *group) error {
	ids := neededIDs(in.ev, in.w.room.RoomID)
	self := in.ev.EventID()
	if known, ok := g.preloaded(ids, self); ok {
		in.known = known
		return nil
	}
	g.markSeen(self)
	rows, err := in.w.svc.st.EventsByID(in.ctx, ids)
	if err != nil {
		return err
	}
	in.known = make(map[string]models.Event, len(rows))
	for _, r := range rows {
		in.known[r.EventID] = r
	}
	for _, id := range ids {
		if r, ok := g.row(id); ok {
			in.known[id] = r
		}
	}
	return nil
}

// neededIDs lists, sorted and each once, the events the checks of ev read:
// itself, its auth and prev events, and the implied create event.
func neededIDs(ev *event.Event, roomID string) []string {
	ids := []string{ev.EventID()}
	ids = append(ids, ev.AuthEventIDs()...)
	ids = append(ids, ev.PrevEventIDs()...)
	if id := createEventID(ev.Version(), roomID); id != "" {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// rows returns the stored rows of ids (the ones found, in the order of ids,
// each once), from what preload read or else from the database.
func (in *inbound) rows(ids []string) ([]models.Event, error) {
	if in.known == nil {
		return in.w.svc.st.EventsByID(in.ctx, ids)
	}
	out := make([]models.Event, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if r, ok := in.known[id]; ok && !seen[id] {
			seen[id] = true
			out = append(out, r)
		}
	}
	return out, nil
}

// parseStored parses a stored event as it was received (auth checks use the
// event's own content, redacted or not), through the service's parse cache.
func (in *inbound) parseStored(row models.Event) (*event.Event, error) {
	row.RedactedBy = ""
	return in.w.svc.parsed.serve(in.w.rv, row)
}

// checkAuthEvents is step 4: every auth event known, not rejected, of this
// room, the right selection, and the event allowed by them.
func (in *inbound) checkAuthEvents() error {
	ids := in.ev.AuthEventIDs()
	rows, err := in.rows(ids)
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
		c, err := in.rows([]string{id})
		if err == nil && len(c) == 0 {
			err = store.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("create event of %s: %w", in.w.room.RoomID, err)
		}
		if create, err = in.parseStored(c[0]); err != nil {
			return fmt.Errorf("stored create event: %w", err)
		}
	}
	for _, r := range rows {
		if r.Rejected || r.RoomID != in.w.room.RoomID {
			return fmt.Errorf("%w: auth event %s is rejected or from another room", ErrRejected, r.EventID)
		}
		p, err := in.parseStored(r)
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
	rows, err := in.rows(ids)
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
