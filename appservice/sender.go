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
type sender struct {
	s       *Service
	reg     *Registration
	log     *slog.Logger
	posName string
	txnName string
}

func newSender(s *Service, reg *Registration) *sender {
	key := reg.ID
	if len(key) > 50 { // worker_positions.name is 64 characters
		sum := sha256.Sum256([]byte(reg.ID))
		key = hex.EncodeToString(sum[:20])
	}
	return &sender{s: s, reg: reg, log: s.log.With("appservice", reg.ID),
		posName: "as:" + key, txnName: "as-txn:" + key}
}

// run delivers transactions until ctx ends.
func (snd *sender) run(ctx context.Context) error {
	pos, pending, err := snd.resume(ctx)
	if err != nil {
		return err
	}
	tick := time.NewTicker(30 * time.Second) // safety net for a missed kick
	defer tick.Stop()
	for {
		kicked := snd.s.opts.Kick.wait()
		for {
			next, err := snd.step(ctx, pos, pending)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				snd.log.Warn("application service sender", "err", err)
				break // try again on the next kick or tick
			}
			if next == pos {
				break
			}
			pos, pending = next, 0
		}
		select {
		case <-ctx.Done():
			return nil
		case <-kicked:
		case <-tick.C:
		}
	}
}

// resume loads the acknowledged position and the transaction in flight
// (0: none). A service new to this database starts at the current position:
// it is not sent the server's whole history.
func (snd *sender) resume(ctx context.Context) (pos, pending int64, err error) {
	st := snd.s.opts.Store
	pos, err = st.WorkerPosition(ctx, snd.posName)
	if errors.Is(err, models.ErrNotFound) {
		pos = snd.s.opts.Events.Current()
		return pos, 0, st.SetWorkerPosition(ctx, snd.posName, pos)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("resume %s: %w", snd.reg, err)
	}
	pending, err = st.WorkerPosition(ctx, snd.txnName)
	if errors.Is(err, models.ErrNotFound) || pending <= pos {
		return pos, 0, nil
	}
	return pos, pending, err
}

// step delivers the next transaction after pos (the one in flight, pending,
// if any) and returns the new acknowledged position; pos itself when there
// is nothing new. It retries with backoff until the service accepts.
func (snd *sender) step(ctx context.Context, pos, pending int64) (int64, error) {
	st := snd.s.opts.Store
	to := pending
	if to == 0 {
		to = snd.s.opts.Events.Current()
	}
	if to <= pos {
		return pos, nil
	}
	rows, err := st.StreamEventsBetween(ctx, pos, to, batchSize)
	if err != nil {
		return pos, err
	}
	if len(rows) == batchSize {
		to = rows[len(rows)-1].StreamPos
	}
	rows, err = snd.interesting(ctx, rows)
	if err != nil {
		return pos, err
	}
	if len(rows) == 0 {
		return to, st.SetWorkerPosition(ctx, snd.posName, to)
	}
	if pending != to {
		// Fix the transaction before sending it, so a restart resends
		// exactly these events under this ID.
		if err := st.SetWorkerPosition(ctx, snd.txnName, to); err != nil {
			return pos, err
		}
	}
	events, err := snd.s.opts.Format(ctx, rows)
	if err != nil {
		return pos, fmt.Errorf("format events for %s: %w", snd.reg, err)
	}
	if err := snd.deliver(ctx, strconv.FormatInt(to, 10), events); err != nil {
		return pos, err
	}
	return to, st.SetWorkerPosition(ctx, snd.posName, to)
}

// deliver sends one transaction until the service accepts it, backing off
// exponentially while it fails; only ctx ending stops it.
func (snd *sender) deliver(ctx context.Context, txnID string, events []any) error {
	wait := snd.s.opts.RetryBase
	for attempt := 1; ; attempt++ {
		err := sendTransaction(ctx, snd.s.opts.Client, snd.reg, txnID, events)
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
	roomMatch := map[string]bool{}
	out := rows[:0:0]
	for _, row := range rows {
		if reg.OwnsUser(spec.UserID(row.Sender)) || (row.Type == "m.room.member" && row.StateKey != nil && reg.OwnsUser(spec.UserID(*row.StateKey))) {
			out = append(out, row)
			continue
		}
		in, known := roomMatch[row.RoomID]
		if !known {
			var err error
			if in, err = snd.roomInterested(ctx, row.RoomID); err != nil {
				return nil, err
			}
			roomMatch[row.RoomID] = in
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
