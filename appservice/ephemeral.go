package appservice

import (
	"context"
	"fmt"
	"slices"

	"github.com/kabarchat/kabar/federation/rooms/streampos"
	"github.com/kabarchat/kabar/models/spec"
)

// EphemeralSources feed the ephemeral list of the transactions of services
// registered with receive_ephemeral (application-service-api.md "Pushing
// events", MSC2409). They are the streams /sync reads: the durable receipts
// stream and the in-memory typing and presence trackers.
type EphemeralSources struct {
	// Receipts is the receipts stream; the receipts table is read through
	// Store.ReceiptsBetween.
	Receipts *streampos.Allocator
	Typing   TypingSource
	// Presence is nil when presence is off.
	Presence PresenceSource
}

// TypingSource is what the sender needs of the typing tracker
// (*clientsync.Typing satisfies it).
type TypingSource interface {
	Current() int64
	ChangedRooms(pos int64, isMember func(roomID string) bool) []string
	Since(roomID string, pos int64) (users []string, ok bool)
}

// PresenceSource lists the users whose presence changed in (since, upto]
// with their presence content.
type PresenceSource interface {
	Current() int64
	Changes(since, upto int64) map[string]any
}

// ephemeralBatch is the ephemeral part of one transaction and the stream
// positions it reaches.
type ephemeralBatch struct {
	events                       []any
	receiptsTo, typingTo, presTo int64
}

// receipts adds the m.receipt events of the interesting rooms for the
// receipts changed in (from, to] and returns the position reached (to, or
// less when the batch is full). Private receipts are only for their owner's
// clients and are never pushed (as Synapse does).
func (snd *sender) receipts(ctx context.Context, rooms *roomCache, from, to int64, out *ephemeralBatch) error {
	out.receiptsTo = from
	if to <= from {
		return nil
	}
	rows, err := snd.s.opts.Store.ReceiptsBetween(ctx, from, to, batchSize)
	if err != nil {
		return err
	}
	if len(rows) == batchSize {
		to = rows[len(rows)-1].StreamPos
	}
	out.receiptsTo = to
	type receipt struct {
		TS       int64  `json:"ts"`
		ThreadID string `json:"thread_id,omitempty"`
	}
	byRoom := map[string]map[string]map[string]map[string]receipt{}
	var order []string
	for _, r := range rows {
		if r.Type == "m.read.private" {
			continue
		}
		in, err := rooms.interested(ctx, r.RoomID)
		if err != nil {
			return err
		}
		if !in {
			continue
		}
		content := byRoom[r.RoomID]
		if content == nil {
			content = map[string]map[string]map[string]receipt{}
			byRoom[r.RoomID] = content
			order = append(order, r.RoomID)
		}
		if content[r.EventID] == nil {
			content[r.EventID] = map[string]map[string]receipt{}
		}
		if content[r.EventID][r.Type] == nil {
			content[r.EventID][r.Type] = map[string]receipt{}
		}
		content[r.EventID][r.Type][r.UserID] = receipt{TS: r.TS, ThreadID: r.ThreadID}
	}
	for _, room := range order {
		// Room-scoped ephemeral data carries room_id (transactions.yaml).
		out.events = append(out.events, map[string]any{"type": "m.receipt", "room_id": room, "content": byRoom[room]})
	}
	return nil
}

// typing adds the m.typing of the interesting rooms whose typing set
// changed after from.
func (snd *sender) typing(ctx context.Context, rooms *roomCache, from int64, out *ephemeralBatch) error {
	t := snd.s.opts.Ephemeral.Typing
	out.typingTo = from
	if t == nil {
		return nil
	}
	to := t.Current()
	if to <= from {
		return nil
	}
	out.typingTo = to
	var err error
	changed := t.ChangedRooms(from, func(roomID string) bool {
		in, e := rooms.interested(ctx, roomID)
		if e != nil && err == nil {
			err = e
		}
		return in
	})
	if err != nil {
		return err
	}
	slices.Sort(changed)
	for _, room := range changed {
		if users, ok := t.Since(room, from); ok {
			if users == nil {
				users = []string{}
			}
			out.events = append(out.events, map[string]any{"type": "m.typing", "room_id": room, "content": map[string]any{"user_ids": users}})
		}
	}
	return nil
}

// presence adds the m.presence of the users changed after from that the
// service is interested in: its own users and users sharing a room with one
// of them (Synapse's is_interested_in_presence).
func (snd *sender) presence(ctx context.Context, from int64, out *ephemeralBatch) error {
	p := snd.s.opts.Ephemeral.Presence
	out.presTo = from
	if p == nil {
		return nil
	}
	to := p.Current()
	if to <= from {
		return nil
	}
	out.presTo = to
	changed := p.Changes(from, to)
	users := make([]string, 0, len(changed))
	for u := range changed {
		users = append(users, u)
	}
	slices.Sort(users)
	for _, u := range users {
		in, err := snd.presenceInterested(ctx, u)
		if err != nil {
			return err
		}
		if in {
			out.events = append(out.events, map[string]any{"type": "m.presence", "sender": u, "content": changed[u]})
		}
	}
	return nil
}

func (snd *sender) presenceInterested(ctx context.Context, user string) (bool, error) {
	if snd.reg.OwnsUser(spec.UserID(user)) {
		return true, nil
	}
	peers, err := snd.s.opts.Store.UsersSharingRoomWith(ctx, user)
	if err != nil {
		return false, fmt.Errorf("rooms shared with %s: %w", user, err)
	}
	return slices.ContainsFunc(peers, func(p string) bool { return snd.reg.OwnsUser(spec.UserID(p)) }), nil
}

// roomCache memoises roomInterested for one transaction.
type roomCache struct {
	snd *sender
	in  map[string]bool
}

func (c *roomCache) interested(ctx context.Context, roomID string) (bool, error) {
	if in, ok := c.in[roomID]; ok {
		return in, nil
	}
	in, err := c.snd.roomInterested(ctx, roomID)
	if err != nil {
		return false, err
	}
	c.in[roomID] = in
	return in, nil
}
