package receiver

import (
	"context"
	"encoding/json"
	"fmt"
	"math"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/store"
)

// walked is one event of a walk: as served (redacted if a redaction of it
// was accepted), with its stored row for the visibility check.
type walked struct {
	ev  *event.Event
	row models.Event
}

// maxPrefetch bounds the topological read-aheads of one walk, so a DAG
// that does not follow depth order costs at most that many wasted reads.
const maxPrefetch = 4

// walkBack does a breadth-first walk over prev_events in one room (/backfill
// and /get_missing_events), from start, not entering stop, skipping events
// that are unknown, rejected, of another room or below minDepth, and
// returning at most limit. The queue is read in batches, one query for as
// many IDs as events are still wanted, so a wide DAG costs one query per
// frontier rather than one per event; and since prev_events lie below
// their children's depth, each batch also reads ahead one topological page
// under the deepest event so far (store.RoomTopo), so a mostly linear room
// is walked in a few queries rather than one per event. A store error fails
// the walk: a short answer would look like the end of the room's history.
func (r *Receiver) walkBack(ctx context.Context, roomID string, start []string, stop map[string]bool, limit int, minDepth int64) ([]walked, error) {
	w := &walk{r: r, roomID: roomID, minDepth: minDepth, ahead: map[string]models.Event{}}
	seen := map[string]bool{}
	var out []walked
	queue := start
	for len(queue) > 0 && len(out) < limit {
		var batch []string
		for len(queue) > 0 && len(batch) < limit-len(out) {
			id := queue[0]
			queue = queue[1:]
			if !seen[id] && !stop[id] {
				seen[id] = true
				batch = append(batch, id)
			}
		}
		if len(batch) == 0 {
			break
		}
		evs, err := w.load(ctx, batch)
		if err != nil {
			return nil, err
		}
		below := int64(math.MinInt64)
		for _, e := range evs {
			out = append(out, e)
			queue = append(queue, e.ev.PrevEventIDs()...)
			below = max(below, e.row.Depth)
		}
		if len(evs) > 0 && len(out) < limit {
			if err := w.readAhead(ctx, below, limit-len(out)); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// walk is the state of one walkBack: rows read ahead, by event ID.
type walk struct {
	r          *Receiver
	roomID     string
	minDepth   int64
	ahead      map[string]models.Event
	prefetches int
}

// readAhead reads up to n events of the room under depth into the cache,
// unless the read-aheads are spent or the cache already holds n.
func (w *walk) readAhead(ctx context.Context, depth int64, n int) error {
	if w.prefetches >= maxPrefetch || len(w.ahead) >= n || depth <= w.minDepth {
		return nil
	}
	w.prefetches++
	rows, err := w.r.opts.Store.RoomTopo(ctx, w.roomID, store.TopoPosition{Depth: depth, Stream: math.MinInt64}, true, n)
	if err != nil {
		return fmt.Errorf("read ahead in %s: %w", w.roomID, err)
	}
	for _, row := range rows {
		w.ahead[row.EventID] = row
	}
	return nil
}

// load returns the given events, from the cache or in one query.
func (w *walk) load(ctx context.Context, ids []string) ([]walked, error) {
	var rows []models.Event
	var missing []string
	for _, id := range ids {
		if row, ok := w.ahead[id]; ok {
			rows = append(rows, row)
			delete(w.ahead, id)
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		more, err := w.r.opts.Store.EventsByID(ctx, missing)
		if err != nil {
			return nil, fmt.Errorf("load events of %s: %w", w.roomID, err)
		}
		rows = append(rows, more...)
	}
	return w.r.parseRoomRows(ctx, w.roomID, ids, rows, w.minDepth)
}

// roomEvents loads the given events of the room in one query, in the order
// of ids, leaving out those unknown, rejected, of another room or below
// minDepth.
func (r *Receiver) roomEvents(ctx context.Context, roomID string, ids []string, minDepth int64) ([]walked, error) {
	rows, err := r.opts.Store.EventsByID(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("load events of %s: %w", roomID, err)
	}
	return r.parseRoomRows(ctx, roomID, ids, rows, minDepth)
}

// parseRoomRows keeps the rows of the given IDs that are of the room, not
// rejected and not below minDepth, in the order of ids, and parses them.
func (r *Receiver) parseRoomRows(ctx context.Context, roomID string, ids []string, rows []models.Event, minDepth int64) ([]walked, error) {
	found := make(map[string]models.Event, len(rows))
	for _, row := range rows {
		if !row.Rejected && row.RoomID == roomID && row.Depth >= minDepth {
			found[row.EventID] = row
		}
	}
	keep := make([]models.Event, 0, len(found))
	for _, id := range ids { // BFS order, whatever order the rows came in
		if row, ok := found[id]; ok {
			keep = append(keep, row)
			delete(found, id)
		}
	}
	evs, err := r.opts.Rooms.ParseRows(ctx, keep)
	if err != nil {
		return nil, fmt.Errorf("parse events of %s: %w", roomID, err)
	}
	out := make([]walked, len(evs))
	for i, ev := range evs {
		out[i] = walked{ev: ev, row: keep[i]}
	}
	return out, nil
}

// servedTo renders walked events for the requesting server: those it may
// not see are redacted rather than left out. The spec does not say which
// (server-server-api "Backfilling and retrieving missing events"); a
// redacted copy keeps the DAG connected for the requester, which needs
// prev_events to link its timeline, and is a valid PDU to it ("Checks
// performed on receipt of a PDU": an event failing the hash check "is
// redacted before being processed"), while no content leaks. Synapse
// (filter_events_for_server) does the same. A server that was never in
// the room gets nothing (walkView).
func servedTo(ctx context.Context, view *rooms.ServerView, evs []walked) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, len(evs))
	for i, w := range evs {
		ok, err := view.CanSee(ctx, w.row)
		if err != nil {
			return nil, fmt.Errorf("visibility of %s: %w", w.row.EventID, err)
		}
		ev := w.ev
		if !ok {
			if ev, err = ev.Redact(); err != nil {
				return nil, err
			}
		}
		out[i] = ev.JSON()
	}
	return out, nil
}
