package rooms

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/store"
)

// request asks a room's actor to build and commit one event.
type request struct {
	proto *Proto
	txn   *models.TxnID // nil without a client transaction ID
	// remote is a remote server's event to accept (inbound.go, owned by the
	// federation area); proto and txn are unused then.
	remote *event.Event
	// forward: we relay the remote event to the room's other servers (a
	// send_join/send_leave we answered as the resident server).
	forward bool
	// onState carries the state a remote event is accepted on when its
	// prev events are unknown (onstate.go).
	onState *suppliedState
	done    chan *result
}

// result is the outcome of one request.
type result struct {
	EventID   string
	StreamPos int64
	// idx is the event's index in the batch (-1 if none was added), to give
	// it its own stream position once the batch commits.
	idx int
	// softFailed is set for a remote event that failed the check against
	// the current state (inbound.go).
	softFailed bool
	err        error
}

// actor is the single writer of one room: it owns the room's writer state and
// serializes every event built in the room.
type actor struct {
	svc    *Service
	roomID string
	reqs   chan *request
	// pending counts requests handed to reqs but not yet taken; guarded by
	// svc.mu so the actor only stops when nobody is about to send to it.
	pending int
	w       *writer
}

func (a *actor) run(ctx context.Context) {
	idle := time.NewTimer(a.svc.opts.IdleTimeout)
	defer idle.Stop()
	for {
		select {
		case req := <-a.reqs:
			batch := []*request{req}
		drain:
			for len(batch) < a.svc.opts.MaxBatch {
				select {
				case r := <-a.reqs:
					batch = append(batch, r)
				default:
					break drain
				}
			}
			a.svc.mu.Lock()
			a.pending -= len(batch)
			a.svc.mu.Unlock()
			// A batch in flight completes even during shutdown.
			a.process(context.WithoutCancel(ctx), batch)
			idle.Reset(a.svc.opts.IdleTimeout)
		case <-idle.C:
			if a.stop(false) {
				return
			}
			idle.Reset(a.svc.opts.IdleTimeout)
		case <-ctx.Done():
			a.stop(true)
			return
		}
	}
}

// stop unregisters the actor if it is idle (or always, on shutdown, after
// failing whatever is still queued).
func (a *actor) stop(shutdown bool) bool {
	a.svc.mu.Lock()
	if !shutdown && a.pending > 0 {
		a.svc.mu.Unlock()
		return false
	}
	delete(a.svc.actors, a.roomID)
	left := a.pending
	a.pending = 0
	a.svc.mu.Unlock()
	for range left {
		(<-a.reqs).done <- &result{err: ErrNotRunning}
	}
	return true
}

// process builds, authorizes and commits a batch of requests in one
// transaction. A request that fails its own checks fails alone; a failed
// commit fails the whole batch and the room view is reloaded.
func (a *actor) process(ctx context.Context, reqs []*request) {
	if a.processSplit(ctx, reqs) { // remote events commit alone (inbound.go)
		return
	}
	if a.w == nil {
		a.w = &writer{svc: a.svc}
		if err := a.w.load(ctx, a.roomID); err != nil {
			a.w = nil
			failAll(reqs, err)
			return
		}
	}
	b := newBatch(a.w)
	results := make([]*result, len(reqs))
	for i, req := range reqs {
		results[i] = a.build(ctx, b, req)
	}
	pos, err := a.w.persist(ctx, b)
	if err != nil {
		a.svc.log.Error("commit room batch", "room", a.roomID, "events", len(b.events), "err", err)
		a.w = nil // reload from the database next time
		failAll(reqs, err)
		return
	}
	first := pos - int64(len(b.events)) + 1
	for i, req := range reqs {
		if results[i].err == nil && results[i].StreamPos == 0 {
			results[i].StreamPos = first + int64(results[i].idx)
		}
		req.done <- results[i]
	}
}

// build handles one request: transaction ID replay, or a new event.
func (a *actor) build(ctx context.Context, b *batch, req *request) *result {
	if req.txn == nil {
		return a.add(ctx, b, req)
	}
	key := req.txn.UserID + "\x00" + req.txn.DeviceID + "\x00" + req.txn.Scope + "\x00" + req.txn.TxnID
	if idx, ok := b.txnSeen[key]; ok {
		return &result{EventID: b.events[idx].EventID(), idx: idx}
	}
	id, err := a.svc.st.TxnEvent(ctx, req.txn.UserID, req.txn.DeviceID, req.txn.Scope, req.txn.TxnID)
	if err == nil {
		row, err := a.svc.st.EventByID(ctx, id)
		if err != nil {
			return &result{err: fmt.Errorf("event of transaction %s: %w", req.txn.TxnID, err)}
		}
		return &result{EventID: id, StreamPos: row.StreamPos}
	}
	if !errors.Is(err, store.ErrNotFound) {
		return &result{err: err}
	}
	res := a.add(ctx, b, req)
	if res.err != nil {
		return res
	}
	t := *req.txn
	t.EventID = res.EventID
	t.CreatedAt = a.svc.opts.Now().UnixMilli()
	b.txns = append(b.txns, t)
	b.txnSeen[key] = res.idx
	return res
}

func (a *actor) add(ctx context.Context, b *batch, req *request) *result {
	ev, err := a.w.add(ctx, b, req.proto)
	if err != nil {
		return &result{err: err}
	}
	return &result{EventID: ev.EventID(), idx: len(b.events) - 1}
}

func failAll(reqs []*request, err error) {
	for _, req := range reqs {
		req.done <- &result{err: err}
	}
}
