package rooms

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
)

// StateBefore returns the room state before an event (send_join's state,
// /state and /state_ids), read from its snapshot.
func (s *Service) StateBefore(ctx context.Context, eventID string) ([]*event.Event, error) {
	return s.snapshotState(ctx, spec.EventID(eventID), false)
}

// StateBeforeRow is StateBefore for an event already loaded (/state and
// /state_ids read the event once).
func (s *Service) StateBeforeRow(ctx context.Context, rv *event.RoomVersion, row models.Event) ([]*event.Event, error) {
	return s.snapshotEvents(ctx, rv, row.StateBefore)
}

// snapshotEvents parses every event of a state snapshot.
func (s *Service) snapshotEvents(ctx context.Context, rv *event.RoomVersion, snap int64) ([]*event.Event, error) {
	entries, err := s.state.Full(ctx, s.st, snap)
	if err != nil {
		return nil, fmt.Errorf("load state snapshot %d: %w", snap, err)
	}
	nids := make([]int64, len(entries))
	for i, e := range entries {
		nids[i] = e.EventNID
	}
	return s.parseNIDs(ctx, rv, nids)
}

// maxAuthChain bounds the work one auth chain walk may do.
const maxAuthChain = 100_000

// AuthChain returns every event reachable through auth_events from seeds
// (not including the seeds unless reachable), in no particular order.
func (s *Service) AuthChain(ctx context.Context, rv *event.RoomVersion, seeds []*event.Event) ([]*event.Event, error) {
	seen := map[string]bool{}
	var queue []string
	for _, e := range seeds {
		queue = append(queue, e.AuthEventIDs()...)
	}
	var out []*event.Event
	for len(queue) > 0 {
		var batch []string
		for _, id := range queue {
			if !seen[id] {
				seen[id] = true
				batch = append(batch, id)
			}
		}
		queue = nil
		if len(batch) == 0 {
			break
		}
		if len(seen) > maxAuthChain {
			return nil, fmt.Errorf("auth chain over %d events", maxAuthChain)
		}
		rows, err := s.st.EventsByID(ctx, batch)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			e, err := serve(rv, r)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
			queue = append(queue, e.AuthEventIDs()...)
		}
	}
	return out, nil
}

// Template builds the event template of make_join/make_leave/make_knock
// (server-server-api "Joining Rooms"): the membership event of a remote
// user, authorized against the current state, without hashes and
// signatures, which the remote server adds.
func (s *Service) Template(ctx context.Context, roomID spec.RoomID, user spec.UserID, membership string, extra map[string]any) (json.RawMessage, *event.RoomVersion, error) {
	_, rv, err := s.Room(ctx, roomID)
	if err != nil {
		return nil, nil, err
	}
	sk := string(user)
	content := map[string]any{"membership": membership}
	for k, v := range extra {
		content[k] = v
	}
	ev, err := s.BuildEvent(ctx, roomID, Proto{Type: "m.room.member", StateKey: &sk, Sender: sk,
		Content: content})
	if err != nil {
		return nil, nil, err
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(ev.JSON(), &obj); err != nil {
		return nil, nil, fmt.Errorf("template: %w", err)
	}
	for _, k := range []string{"hashes", "signatures", "unsigned", "event_id"} {
		delete(obj, k)
	}
	obj["origin"], _ = json.Marshal(user.Server())
	out, err := json.Marshal(obj)
	return out, rv, err
}
