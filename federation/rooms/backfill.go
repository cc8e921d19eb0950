package rooms

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// BackwardExtremity finds where a room's known history ends
// (server-server-api "Backfilling and retrieving missing events"): the
// prev events of its earliest timeline event that we do not have in the
// timeline. None once the history reaches the create event.
func (s *Service) BackwardExtremity(ctx context.Context, roomID spec.RoomID) ([]string, error) {
	first, err := s.st.EarliestTimelineEvent(ctx, string(roomID))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	ev, err := s.parseRow(ctx, first)
	if err != nil {
		return nil, err
	}
	prevs := ev.PrevEventIDs()
	known, err := s.st.EventsByID(ctx, prevs)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, r := range known {
		if r.StreamPos != 0 || r.Rejected {
			have[r.EventID] = true
		}
	}
	return slices.DeleteFunc(prevs, func(id string) bool { return have[id] }), nil
}

// StoreBackfill keeps events a resident server returned from /backfill as
// history: before the room's earliest timeline event in topological order,
// with negative stream positions so /sync never reports them as new, and
// no change to the forward extremities or current state. The caller has
// checked signatures and hashes; each event must also pass its own auth
// events (step 4 of the PDU checks), or it is left out. Their state is not
// fetched: each gets the state before the earliest event we had, which
// history visibility is then judged on. It returns how many it stored.
func (s *Service) StoreBackfill(ctx context.Context, roomID spec.RoomID, evs []*event.Event) (int, error) {
	_, rv, err := s.Room(ctx, roomID)
	if err != nil {
		return 0, err
	}
	s.backfillMu.Lock()
	defer s.backfillMu.Unlock()
	first, err := s.st.EarliestTimelineEvent(ctx, string(roomID))
	if err != nil {
		return 0, fmt.Errorf("backfill %s: %w", roomID, err)
	}
	w := &writer{svc: s, rv: rv, room: models.Room{RoomID: string(roomID)}}
	items, err := s.newHistory(ctx, w, evs, first.Depth)
	if err != nil || len(items) == 0 {
		return 0, err
	}
	err = s.st.Transaction(ctx, func(tx *store.Store) error {
		low, err := tx.LowestStreamPos(ctx)
		if err != nil {
			return err
		}
		var rows []models.Event
		for i, h := range items {
			// The oldest gets the lowest position: equal depths keep order.
			pos := low - int64(len(items)-i)
			if h.outlier != nil {
				if err := tx.PromoteOutlier(ctx, h.outlier.EventNID, pos, first.StateBefore, first.StateBefore); err != nil {
					return err
				}
				continue
			}
			row, err := w.row(h.ev, pos)
			if err != nil {
				return err
			}
			row.StateBefore, row.StateAfter = first.StateBefore, first.StateBefore
			rows = append(rows, row)
		}
		return tx.WriteRoom(ctx, &store.RoomWrite{RoomID: string(roomID), Events: rows})
	})
	if err != nil {
		return 0, fmt.Errorf("store backfill of %s: %w", roomID, err)
	}
	return len(items), nil
}

// historyItem is one backfilled event to store: new, or known as an
// outlier (a state or auth event) that now gets its place in the timeline.
type historyItem struct {
	ev      *event.Event
	outlier *models.Event
}

// newHistory picks the backfilled events to store, oldest first: those of
// the room before depth that we lack in the timeline and that pass their
// auth events.
func (s *Service) newHistory(ctx context.Context, w *writer, evs []*event.Event, depth int64) ([]historyItem, error) {
	cand := map[string]*event.Event{}
	for _, e := range evs {
		if e.RoomID() == w.room.RoomID && e.Version() == w.rv && e.Depth() < depth {
			cand[e.EventID()] = e
		}
	}
	known, err := s.st.EventsByID(ctx, mapsKeys(cand))
	if err != nil {
		return nil, err
	}
	var items []historyItem
	for _, r := range known {
		if r.StreamPos == 0 && !r.Rejected {
			items = append(items, historyItem{ev: cand[r.EventID], outlier: &r})
		}
		delete(cand, r.EventID)
	}
	byID, err := w.withStoredAuth(ctx, cand)
	if err != nil {
		return nil, err
	}
	for _, e := range cand {
		if err := checkAgainstAuthEvents(e, byID); err != nil {
			s.log.Info("backfilled event left out", "room", w.room.RoomID, "event", e.EventID(), "err", err)
			continue
		}
		items = append(items, historyItem{ev: e})
	}
	slices.SortFunc(items, func(a, b historyItem) int {
		return cmp.Or(cmp.Compare(a.ev.Depth(), b.ev.Depth()),
			cmp.Compare(a.ev.OriginServerTS(), b.ev.OriginServerTS()), cmp.Compare(a.ev.EventID(), b.ev.EventID()))
	})
	return items, nil
}
