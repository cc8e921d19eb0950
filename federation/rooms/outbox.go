package rooms

import (
	"context"
	"slices"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
)

// destinations lists the remote servers a batch of our events goes to: every
// server with a joined member before the batch, plus the servers of users
// the batch joins (server-server-api "Transactions": PDUs go to every server
// in the room). A server whose last user the batch removes still gets the
// batch, so it learns of the leave, kick or ban.
func (w *writer) destinations(ctx context.Context, evs []*event.Event) ([]spec.ServerName, error) {
	if err := w.loadJoined(ctx); err != nil {
		return nil, err
	}
	seen := map[spec.ServerName]bool{w.svc.opts.ServerName: true}
	var out []spec.ServerName
	add := func(s spec.ServerName) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for s := range w.servers {
		add(s)
	}
	for _, ev := range evs {
		if ev.Type() == "m.room.member" && ev.StateKey() != nil && membershipOf(ev) == "join" {
			add(spec.UserID(*ev.StateKey()).Server())
		}
	}
	slices.Sort(out)
	return out, nil
}

// queueRows builds the outbound queue rows of events for destinations, in
// event order per destination.
func queueRows(evs []*event.Event, dests []spec.ServerName, now int64) []models.QueueEntry {
	if len(dests) == 0 {
		return nil
	}
	rows := make([]models.QueueEntry, 0, len(evs)*len(dests))
	for _, ev := range evs {
		for _, d := range dests {
			rows = append(rows, models.QueueEntry{Destination: string(d), Kind: "pdu", Payload: ev.EventID(), CreatedAt: now})
		}
	}
	return rows
}

// serversOf lists the servers of users (without ours), sorted.
func (s *Service) serversOf(users []string, without ...spec.ServerName) []spec.ServerName {
	seen := map[spec.ServerName]bool{s.opts.ServerName: true}
	for _, w := range without {
		seen[w] = true
	}
	var out []spec.ServerName
	for _, u := range users {
		if sv := spec.UserID(u).Server(); !seen[sv] {
			seen[sv] = true
			out = append(out, sv)
		}
	}
	slices.Sort(out)
	return out
}
