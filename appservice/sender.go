package appservice

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
)

// batchSize bounds the stream positions one transaction covers.
const batchSize = 100

// sender pushes one service's events as transactions
// (application-service-api.md "Pushing events"). Its queue is the event
// stream itself: two rows in worker_positions record how far the service
// has acknowledged ("as:<id>") and the end of the transaction in flight
// ("as-txn:<id>"). The transaction ID is that end position, so a retry,
// even after a restart, resends the same events under the same ID, and
// nothing acknowledged is sent again or anything unacknowledged lost.
//
// A service with receive_ephemeral also gets receipts, typing and presence.
// Receipts are durable and follow the receipts stream the same way
// ("as-rc:<id>", "as-rctxn:<id>"). A transaction may then carry no new
// event, so its ID is "<events end>.<sequence>", the sequence counting the
// service's transactions ("as-seq:<id>" acknowledged, "as-seqtxn:<id>" in
// flight). Typing and presence are in memory, as for /sync: their
// positions are too, so a restart drops what was in flight and never
// resends old typing.
type sender struct {
	s       *Service
	reg     *Registration
	log     *slog.Logger
	posName string
	txnName string
	// Ephemeral services only.
	rcName, rcTxnName, seqName, seqTxnName string
}

// cursor is how far a sender is: acknowledged positions and the
// transaction in flight (zero: none).
type cursor struct {
	events, txn      int64
	receipts, rcTxn  int64
	seq, seqTxn      int64
	typing, presence int64
}

func newSender(s *Service, reg *Registration) *sender {
	key := reg.ID
	if len(key) > 50 { // worker_positions.name is 64 characters
		sum := sha256.Sum256([]byte(reg.ID))
		key = hex.EncodeToString(sum[:20])
	}
	return &sender{s: s, reg: reg, log: s.log.With("appservice", reg.ID),
		posName: "as:" + key, txnName: "as-txn:" + key,
		rcName: "as-rc:" + key, rcTxnName: "as-rctxn:" + key,
		seqName: "as-seq:" + key, seqTxnName: "as-seqtxn:" + key}
}

// ephemeral reports whether this sender pushes ephemeral events.
func (snd *sender) ephemeral() bool { return snd.reg.Ephemeral() && snd.s.opts.Ephemeral != nil }

// run delivers transactions until ctx ends.
func (snd *sender) run(ctx context.Context) error {
	c, err := snd.resume(ctx)
	if err != nil {
		return err
	}
	tick := time.NewTicker(30 * time.Second) // safety net for a missed kick
	defer tick.Stop()
	var receipts <-chan struct{}
	for {
		kicked := snd.s.opts.Kick.wait()
		if snd.ephemeral() {
			receipts = snd.s.opts.Ephemeral.Receipts.Changed()
		}
		for {
			progressed, err := snd.step(ctx, &c)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				snd.log.Warn("application service sender", "err", err)
				break // try again on the next kick or tick
			}
			if !progressed {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-kicked:
		case <-receipts:
		case <-tick.C:
		}
	}
}

// resume loads the acknowledged positions and the transaction in flight.
// A service new to this database starts at the current positions: it is
// not sent the server's whole history.
func (snd *sender) resume(ctx context.Context) (cursor, error) {
	var c cursor
	var err error
	if c.events, c.txn, err = snd.resumeStream(ctx, snd.posName, snd.txnName, snd.s.opts.Events.Current); err != nil {
		return c, err
	}
	if !snd.ephemeral() {
		return c, nil
	}
	eph := snd.s.opts.Ephemeral
	if c.receipts, c.rcTxn, err = snd.resumeStream(ctx, snd.rcName, snd.rcTxnName, eph.Receipts.Current); err != nil {
		return c, err
	}
	zero := func() int64 { return 0 }
	if c.seq, c.seqTxn, err = snd.resumeStream(ctx, snd.seqName, snd.seqTxnName, zero); err != nil {
		return c, err
	}
	if eph.Typing != nil {
		c.typing = eph.Typing.Current()
	}
	if eph.Presence != nil {
		c.presence = eph.Presence.Current()
	}
	return c, nil
}

// resumeStream loads one stream's acknowledged position (initialised to
// current() when missing) and in-flight end (0: none).
func (snd *sender) resumeStream(ctx context.Context, posName, txnName string, current func() int64) (pos, pending int64, err error) {
	st := snd.s.opts.Store
	pos, err = st.WorkerPosition(ctx, posName)
	if errors.Is(err, models.ErrNotFound) {
		pos = current()
		return pos, 0, st.SetWorkerPosition(ctx, posName, pos)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("resume %s: %w", snd.reg, err)
	}
	pending, err = st.WorkerPosition(ctx, txnName)
	if errors.Is(err, models.ErrNotFound) || pending <= pos {
		return pos, 0, nil
	}
	return pos, pending, err
}

// step delivers the next transaction (the one in flight, if any) and
// advances c; progressed is false when there was nothing new. It retries
// with backoff until the service accepts.
func (snd *sender) step(ctx context.Context, c *cursor) (progressed bool, err error) {
	// An events-only transaction left in flight (the service was just
	// given receive_ephemeral) is finished first, under its own ID.
	legacy := c.txn > c.events && c.seqTxn <= c.seq
	if snd.ephemeral() && !legacy {
		return snd.stepEphemeral(ctx, c)
	}
	st := snd.s.opts.Store
	to := c.txn
	if to == 0 {
		to = snd.s.opts.Events.Current()
	}
	rows, to, err := snd.eventsUpTo(ctx, c.events, to)
	if err != nil || to == c.events {
		return false, err
	}
	if len(rows) == 0 {
		c.events = to
		return true, st.SetWorkerPosition(ctx, snd.posName, to)
	}
	if c.txn != to {
		// Fix the transaction before sending it, so a restart resends
		// exactly these events under this ID.
		if err := st.SetWorkerPosition(ctx, snd.txnName, to); err != nil {
			return false, err
		}
		c.txn = to
	}
	if err := snd.send(ctx, strconv.FormatInt(to, 10), rows, nil); err != nil {
		return false, err
	}
	c.events, c.txn = to, 0
	return true, st.SetWorkerPosition(ctx, snd.posName, to)
}

// stepEphemeral is step for a service with receive_ephemeral: a
// transaction carries the events and receipts up to fixed ends and the
// typing and presence changes seen when it was built.
func (snd *sender) stepEphemeral(ctx context.Context, c *cursor) (bool, error) {
	st := snd.s.opts.Store
	pending := c.seqTxn > c.seq
	evTo, rcTo := max(c.txn, c.events), max(c.rcTxn, c.receipts)
	if !pending {
		evTo, rcTo = snd.s.opts.Events.Current(), snd.s.opts.Ephemeral.Receipts.Current()
	}
	rows, evTo, err := snd.eventsUpTo(ctx, c.events, evTo)
	if err != nil {
		return false, err
	}
	rooms := &roomCache{snd: snd, in: map[string]bool{}}
	eph := ephemeralBatch{typingTo: c.typing, presTo: c.presence}
	if err := snd.receipts(ctx, rooms, c.receipts, rcTo, &eph); err != nil {
		return false, err
	}
	if !pending {
		// Typing and presence are not resent after a restart.
		if err := snd.typing(ctx, rooms, c.typing, &eph); err != nil {
			return false, err
		}
		if err := snd.presence(ctx, c.presence, &eph); err != nil {
			return false, err
		}
	}
	moved := evTo != c.events || eph.receiptsTo != c.receipts || eph.typingTo != c.typing || eph.presTo != c.presence
	if len(rows) == 0 && len(eph.events) == 0 && !pending {
		if !moved {
			return false, nil
		}
		return true, snd.ack(ctx, c, evTo, eph, c.seq)
	}
	seq := c.seqTxn
	if !pending {
		// Fix the transaction's ends, then mark it in flight.
		seq = c.seq + 1
		for _, w := range []struct {
			name string
			pos  int64
		}{{snd.txnName, evTo}, {snd.rcTxnName, eph.receiptsTo}, {snd.seqTxnName, seq}} {
			if err := st.SetWorkerPosition(ctx, w.name, w.pos); err != nil {
				return false, err
			}
		}
		c.txn, c.rcTxn, c.seqTxn = evTo, eph.receiptsTo, seq
	}
	if err := snd.send(ctx, strconv.FormatInt(evTo, 10)+"."+strconv.FormatInt(seq, 10), rows, eph.events); err != nil {
		return false, err
	}
	return true, snd.ack(ctx, c, evTo, eph, seq)
}

// ack records an accepted (or empty) transaction; the sequence goes last,
// as it marks the transaction done.
func (snd *sender) ack(ctx context.Context, c *cursor, evTo int64, eph ephemeralBatch, seq int64) error {
	st := snd.s.opts.Store
	for _, w := range []struct {
		name     string
		pos, old int64
	}{{snd.posName, evTo, c.events}, {snd.rcName, eph.receiptsTo, c.receipts}, {snd.seqName, seq, c.seq}} {
		if w.pos == w.old {
			continue
		}
		if err := st.SetWorkerPosition(ctx, w.name, w.pos); err != nil {
			return err
		}
	}
	c.events, c.receipts, c.seq = evTo, eph.receiptsTo, seq
	c.typing, c.presence = eph.typingTo, eph.presTo
	return nil
}

// eventsUpTo reads the events in (from, to], at most a batch, keeps the
// interesting ones and returns the end reached.
func (snd *sender) eventsUpTo(ctx context.Context, from, to int64) ([]models.Event, int64, error) {
	if to <= from {
		return nil, from, nil
	}
	rows, err := snd.s.opts.Store.StreamEventsBetween(ctx, from, to, batchSize)
	if err != nil {
		return nil, from, err
	}
	if len(rows) == batchSize {
		to = rows[len(rows)-1].StreamPos
	}
	rows, err = snd.interesting(ctx, rows)
	if err != nil {
		return nil, from, err
	}
	return rows, to, nil
}

// send formats the events and delivers the transaction.
func (snd *sender) send(ctx context.Context, txnID string, rows []models.Event, ephemeral []any) error {
	events := []any{}
	if len(rows) > 0 {
		var err error
		if events, err = snd.s.opts.Format(ctx, rows); err != nil {
			return fmt.Errorf("format events for %s: %w", snd.reg, err)
		}
	}
	return snd.deliver(ctx, txnID, events, ephemeral)
}

// deliver sends one transaction until the service accepts it, backing off
// exponentially while it fails; only ctx ending stops it.
func (snd *sender) deliver(ctx context.Context, txnID string, events, ephemeral []any) error {
	wait := snd.s.opts.RetryBase
	for attempt := 1; ; attempt++ {
		err := sendTransaction(ctx, snd.s.opts.Client, snd.reg, txnID, events, ephemeral)
		if err == nil {
			if attempt > 1 {
				snd.log.Info("application service reachable again", "txn", txnID, "attempts", attempt)
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		snd.log.Warn("application service transaction failed", "txn", txnID, "attempt", attempt, "retry_in", wait, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, snd.s.opts.RetryMax)
	}
}

// interesting keeps the events the service is interested in
// (application-service-api.md "Registration"): sent by or about a user in
// its user namespaces, in a room of its room namespaces, in a room with an
// alias in its alias namespaces, or in a room where one of its users is
// joined.
func (snd *sender) interesting(ctx context.Context, rows []models.Event) ([]models.Event, error) {
	reg := snd.reg
	rooms := &roomCache{snd: snd, in: map[string]bool{}}
	out := rows[:0:0]
	for _, row := range rows {
		if reg.OwnsUser(spec.UserID(row.Sender)) || (row.Type == "m.room.member" && row.StateKey != nil && reg.OwnsUser(spec.UserID(*row.StateKey))) {
			out = append(out, row)
			continue
		}
		in, err := rooms.interested(ctx, row.RoomID)
		if err != nil {
			return nil, err
		}
		if in {
			out = append(out, row)
		}
	}
	return out, nil
}

func (snd *sender) roomInterested(ctx context.Context, roomID string) (bool, error) {
	reg := snd.reg
	if matchAny(reg.Namespaces.Rooms, roomID, false) {
		return true, nil
	}
	if len(reg.Namespaces.Aliases) > 0 {
		aliases, err := snd.s.opts.Store.RoomAliases(ctx, roomID)
		if err != nil {
			return false, err
		}
		for _, a := range aliases {
			if reg.OwnsAlias(spec.RoomAlias(a)) {
				return true, nil
			}
		}
	}
	members, err := snd.s.opts.Store.JoinedMembersSince(ctx, roomID)
	if err != nil {
		return false, err
	}
	for u := range members {
		if reg.OwnsUser(spec.UserID(u)) {
			return true, nil
		}
	}
	return false, nil
}
