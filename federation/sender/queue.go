package sender

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
)

// queue delivers one destination's rows, one transaction at a time.
type queue struct {
	s       *Sender
	dest    spec.ServerName
	wakeC   chan bool // true: the peer is up, retry at once
	backoff time.Duration
	// failures counts failed attempts since the last success (Status).
	failures atomic.Int64
	attempts atomic.Int64
}

func newQueue(s *Sender, dest spec.ServerName) *queue {
	return &queue{s: s, dest: dest, wakeC: make(chan bool, 1)}
}

func (q *queue) poke(reset bool) {
	select {
	case q.wakeC <- reset:
	default:
		if reset { // replace a pending plain poke with a reset
			select {
			case <-q.wakeC:
			default:
			}
			select {
			case q.wakeC <- true:
			default:
			}
		}
	}
}

// run sends transactions until the queue is empty, then waits for a poke.
func (q *queue) run(ctx context.Context) {
	for ctx.Err() == nil {
		sent, err := q.sendOne(ctx)
		switch {
		case err != nil:
			q.failures.Add(1)
			q.backoff = q.nextBackoff()
			q.s.log.Info("federation transaction failed", "destination", q.dest, "retry_in", q.backoff, "err", err)
			if !q.wait(ctx, q.backoff) {
				return
			}
		case !sent:
			if !q.wait(ctx, 0) {
				return
			}
		default:
			q.backoff = 0
			q.failures.Store(0)
		}
	}
}

// wait sleeps for d (forever if 0) or until poked; a reset poke cuts a
// backoff short. It reports false when ctx ends.
func (q *queue) wait(ctx context.Context, d time.Duration) bool {
	var timer <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return false
		case <-timer:
			return true
		case reset := <-q.wakeC:
			if d == 0 || reset {
				if reset {
					q.backoff = 0
				}
				return true
			}
		}
	}
}

// nextBackoff doubles the delay, within bounds, with ±25% jitter so many
// servers do not retry a recovering peer in lockstep.
func (q *queue) nextBackoff() time.Duration {
	d := max(q.s.opts.MinBackoff, min(q.backoff*2, q.s.opts.MaxBackoff))
	jitter := time.Duration(rand.Int64N(int64(d)/2+1)) - d/4
	return d + jitter
}

// transaction is the body of PUT /send/{txnId}.
type transaction struct {
	Origin         string            `json:"origin"`
	OriginServerTS int64             `json:"origin_server_ts"`
	PDUs           []json.RawMessage `json:"pdus"`
	EDUs           []json.RawMessage `json:"edus,omitempty"`
}

// sendOne sends the head of the queue as one transaction and deletes the
// rows once the destination acknowledged it. It reports whether there was
// anything to send.
func (q *queue) sendOne(ctx context.Context) (bool, error) {
	st := q.s.opts.Store
	if q.failures.Load() > 0 || q.attempts.Load() == 0 { // after an outage or a restart
		if err := q.catchUp(ctx); err != nil {
			return false, err
		}
	}
	pdus, err := st.QueueHead(ctx, string(q.dest), "pdu", maxPDUs)
	if err != nil {
		return false, err
	}
	edus, err := st.QueueHead(ctx, string(q.dest), "edu", maxEDUs)
	if err != nil {
		return false, err
	}
	if len(pdus)+len(edus) == 0 {
		return false, nil
	}
	txn := transaction{Origin: string(q.s.opts.ServerName), OriginServerTS: q.s.opts.Now().UnixMilli(), PDUs: []json.RawMessage{}}
	if txn.PDUs, err = q.loadPDUs(ctx, pdus); err != nil {
		return true, err
	}
	for _, e := range edus {
		txn.EDUs = append(txn.EDUs, json.RawMessage(e.Payload))
	}
	// The ID depends only on the rows, so a retry of the same batch reuses
	// it and the receiver recognises the repeat. The enqueue time is part of
	// it because a drained table may hand out row IDs again (SQLite reuses
	// the highest rowid), and a reused ID would make the peer answer a new
	// transaction from its idempotency record without reading it.
	ids := append(idsOf(pdus), idsOf(edus)...)
	first := append(pdus, edus...)[0].CreatedAt
	txnID := fmt.Sprintf("%d_%d_%d_%d", first, ids[0], ids[len(ids)-1], len(ids))
	var resp struct {
		PDUs map[string]struct {
			Error string `json:"error"`
		} `json:"pdus"`
	}
	path := "/_matrix/federation/v1/send/" + url.PathEscape(txnID)
	q.attempts.Add(1)
	if err := q.s.opts.Client.Do(ctx, q.dest, "PUT", path, txn, &resp); err != nil {
		return true, err
	}
	for id, r := range resp.PDUs {
		if r.Error != "" {
			// The peer processed and refused it: retrying would not help.
			q.s.log.Info("destination refused an event", "destination", q.dest, "event", id, "error", r.Error)
		}
	}
	return true, st.Dequeue(ctx, ids)
}

// loadPDUs reads the queued events in queue order.
func (q *queue) loadPDUs(ctx context.Context, rows []models.QueueEntry) ([]json.RawMessage, error) {
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.Payload
	}
	events, err := q.s.opts.Store.EventsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	byID := map[string]string{}
	for _, e := range events {
		byID[e.EventID] = e.JSON
	}
	out := make([]json.RawMessage, 0, len(rows))
	for _, id := range ids {
		if j, ok := byID[id]; ok {
			out = append(out, json.RawMessage(j))
		}
	}
	return out, nil
}

func idsOf(rows []models.QueueEntry) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = r.ID
	}
	return out
}
