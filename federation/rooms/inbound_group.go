package rooms

import (
	"context"
	"fmt"
	"slices"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/rooms/streampos"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// Group commit of remote events. The PDUs of a /send transaction are
// mostly messages, each on top of the one before. Each is still checked on
// its own and in order (server-server-api "Checks performed on receipt of
// a PDU", steps 4-6), but one that changes nothing but the timeline and the
// extremities is staged rather than committed alone: the run of staged
// events is written in one transaction, before anything that builds on it
// differently (a state event, a redaction, a fork, a relayed event) and at
// the end of the actor's batch. Callers get their results after the commit.

// AcceptRemoteAll is AcceptRemote for several events, handed to their
// rooms' actors all at once and in order so that consecutive events of a
// room are checked one after the other and committed together. errs[i] is
// the outcome of evs[i].
func (s *Service) AcceptRemoteAll(ctx context.Context, evs []*event.Event) []error {
	errs := make([]error, len(evs))
	reqs := make([]*request, len(evs))
	for i, ev := range evs {
		reqs[i] = &request{remote: ev, done: make(chan *result, 1)}
		if err := s.enqueue(ev.RoomID(), reqs[i]); err != nil {
			errs[i], reqs[i] = err, nil
		}
	}
	for i, req := range reqs {
		if req == nil {
			continue
		}
		select {
		case res := <-req.done:
			errs[i] = res.err
		case <-ctx.Done():
			errs[i] = fmt.Errorf("wait for room %s: %w", evs[i].RoomID(), ctx.Err())
		}
	}
	return errs
}

// enqueue hands a request to the room's actor, starting it if needed,
// without waiting (submit waits).
func (s *Service) enqueue(roomID string, req *request) error {
	s.mu.Lock()
	if s.runCtx == nil {
		s.mu.Unlock()
		return ErrNotRunning
	}
	a := s.actors[roomID]
	if a == nil {
		a = &actor{svc: s, roomID: roomID, reqs: make(chan *request, s.opts.MaxBatch)}
		s.actors[roomID] = a
		runCtx := s.runCtx
		s.actorWG.Go(func() { a.run(runCtx) })
	}
	a.pending++
	s.mu.Unlock()
	a.reqs <- req
	return nil
}

// group is the remote events checked but not yet committed, and what was
// read for the whole run of remote events the actor took at once.
type group struct {
	w     *writer
	extr  []string // the writer's extremities before the first staged event
	items []staged
	byID  map[string]int
	// stored holds the rows that the run's events refer to, read in one
	// query before the run (nil if that failed); seen the run's events
	// checked so far.
	stored map[string]models.Event
	seen   map[string]bool
}

// preloadRun reads in one query the stored rows every event of the run
// needs (preload reads them per event otherwise).
func (g *group) preloadRun(ctx context.Context, st *store.Store, reqs []*request) {
	if len(reqs) < 2 {
		return
	}
	var ids []string
	for _, req := range reqs {
		ids = append(ids, neededIDs(req.remote, req.remote.RoomID())...)
	}
	slices.Sort(ids)
	rows, err := st.EventsByID(ctx, slices.Compact(ids))
	if err != nil {
		return
	}
	g.stored, g.seen = make(map[string]models.Event, len(rows)), map[string]bool{}
	for _, r := range rows {
		g.stored[r.EventID] = r
	}
}

// preloaded answers preload from the run's read when it is still exact:
// the event was not handled earlier in the run (then it may be stored now),
// and every other event it needs was stored before the run or is staged.
// An event stored during the run outside the group (a state event, a
// rejection) is not in the run's read: the caller reads the database.
func (g *group) preloaded(ids []string, self string) (map[string]models.Event, bool) {
	if g.stored == nil || g.seen[self] {
		return nil, false
	}
	known := make(map[string]models.Event, len(ids))
	for _, id := range ids {
		if r, ok := g.row(id); ok {
			known[id] = r
		} else if r, ok := g.stored[id]; ok {
			known[id] = r
		} else if id != self {
			return nil, false
		}
	}
	g.seen[self] = true
	return known, true
}

func (g *group) markSeen(eventID string) {
	if g.seen != nil {
		g.seen[eventID] = true
	}
}

type staged struct {
	req *request
	in  *inbound
	row models.Event
	pos *streampos.Reservation // held until the group commits
}

func (g *group) has(eventID string) bool {
	_, ok := g.byID[eventID]
	return ok
}

// row is a staged event's row as the checks of the events after it read it.
func (g *group) row(eventID string) (models.Event, bool) {
	i, ok := g.byID[eventID]
	if !ok {
		return models.Event{}, false
	}
	return g.items[i].row, true
}

// stageable reports whether the checked event can wait for a group commit:
// it changes no state (not a state event, not a redaction, and the current
// state stays: it soft-failed, or it builds on every extremity with the
// current state as its state before), its state before is a stored
// snapshot, and it is not queued for other servers.
func (in *inbound) stageable(softFailed bool) bool {
	ev, w := in.ev, in.w
	if ev.IsState() || ev.Type() == "m.room.redaction" || in.forward || in.beforeSnap == 0 {
		return false
	}
	if sender, err := spec.ParseUserID(ev.Sender()); err != nil || sender.Server() == w.svc.opts.ServerName {
		return false // our own event coming back may be queued (outboundDests)
	}
	if softFailed {
		return true
	}
	for _, x := range w.extremities {
		if !slices.ContainsFunc(in.prevs, func(p models.Event) bool { return p.EventID == x }) {
			return false
		}
	}
	return in.beforeSnap == w.room.SnapshotNID
}

// stage adds a checked event to the group and moves the writer's view past
// it, as its commit would.
func (g *group) stage(in *inbound, req *request, softFailed bool) {
	w, ev := in.w, in.ev
	if len(g.items) == 0 {
		g.w, g.extr, g.byID = w, w.extremities, map[string]int{}
	}
	res := w.svc.stream.Reserve(1)
	row, _ := w.row(ev, res.First)
	row.SoftFailed = softFailed
	row.StateBefore, row.StateAfter = in.beforeSnap, in.beforeSnap
	g.byID[ev.EventID()] = len(g.items)
	g.items = append(g.items, staged{req: req, in: in, row: row, pos: res})
	in.advanced = true
	if softFailed {
		return
	}
	w.extremities, w.depth = []string{ev.EventID()}, ev.Depth()
	if w.rv.EventFormat == 1 {
		if h, err := ev.ReferenceHash(); err == nil {
			w.refHashes = map[string][32]byte{ev.EventID(): h}
		}
	}
}

// flush commits the group in one transaction and answers its requests. On
// failure every staged event fails and the writer's view is reloaded.
func (a *actor) flush(ctx context.Context, g *group) error {
	if len(g.items) == 0 {
		return nil
	}
	items, w, extr := g.items, g.w, g.extr
	g.items, g.w, g.extr, g.byID = nil, nil, nil, nil
	wr := &store.RoomWrite{RoomID: w.room.RoomID, Events: make([]models.Event, len(items))}
	for i, it := range items {
		wr.Events[i] = it.row
	}
	for _, x := range w.extremities {
		if !slices.Contains(extr, x) {
			wr.ExtremitiesAdded = append(wr.ExtremitiesAdded, x)
		}
	}
	for _, x := range extr {
		if !slices.Contains(w.extremities, x) {
			wr.ExtremitiesRemoved = append(wr.ExtremitiesRemoved, x)
		}
	}
	err := w.svc.st.Transaction(ctx, func(tx *store.Store) error { return tx.WriteRoom(ctx, wr) })
	for _, it := range items {
		it.pos.Done()
	}
	if err != nil {
		err = fmt.Errorf("persist %d remote events in %s: %w", len(items), w.room.RoomID, err)
		if a.w == w {
			a.w = nil
		}
		for _, it := range items {
			it.req.done <- &result{err: err}
		}
		return err
	}
	last := items[len(items)-1]
	last.in.notify(last.row.StreamPos)
	for _, it := range items {
		it.req.done <- &result{EventID: it.row.EventID, StreamPos: it.row.StreamPos, softFailed: it.row.SoftFailed}
	}
	return nil
}
