package sender

import (
	"context"
	"fmt"

	"github.com/kabarchat/kabar/models/spec"
)

// catchUp shortens the queue of a destination that was down long enough to
// pile up more than CatchUpAfter PDUs: only the latest queued event of each
// room stays, and the destination fills the gap itself with
// /get_missing_events or /backfill when it sees prev_events it lacks
// (server-server-api "Transactions" leaves the order of delivery to the
// origin; replaying a day of history one transaction at a time would keep
// a recovering server busy for hours). Rows are dropped only after the
// latest event of their room is known to be queued after them.
func (q *queue) catchUp(ctx context.Context) error {
	st := q.s.opts.Store
	limit := q.s.opts.CatchUpAfter
	rows, err := st.QueueHead(ctx, string(q.dest), "pdu", limit+1)
	if err != nil || len(rows) <= limit {
		return err
	}
	// Over the limit: read the whole queue (bounded by what piled up).
	if rows, err = st.QueueHead(ctx, string(q.dest), "pdu", 1<<30); err != nil {
		return err
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.Payload
	}
	events, err := st.EventsByID(ctx, ids)
	if err != nil {
		return err
	}
	roomOf := make(map[string]string, len(events))
	for _, e := range events {
		roomOf[e.EventID] = e.RoomID
	}
	// Rows are in queue order: the last row of each room is its latest.
	last := map[string]int64{}
	for _, r := range rows {
		last[roomOf[r.Payload]] = r.ID
	}
	var drop []int64
	for _, r := range rows {
		if room, ok := roomOf[r.Payload]; !ok || last[room] != r.ID {
			drop = append(drop, r.ID)
		}
	}
	if err := st.Dequeue(ctx, drop); err != nil {
		return fmt.Errorf("catch-up of %s: %w", q.dest, err)
	}
	q.s.log.Info("destination catch-up: sending only the latest event per room",
		"destination", q.dest, "dropped", len(drop), "rooms", len(last))
	return nil
}

// Status is a destination's delivery state: failed attempts since the last
// success and transactions attempted.
type Status struct {
	Failures, Attempts int64
}

// Status reports on one destination (zero if it has no queue).
func (s *Sender) Status(dest spec.ServerName) Status {
	s.mu.Lock()
	q := s.queues[dest]
	s.mu.Unlock()
	if q == nil {
		return Status{}
	}
	return Status{Failures: q.failures.Load(), Attempts: q.attempts.Load()}
}
