package rooms

import (
	"context"
	"errors"
	"fmt"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// Out-of-band memberships: an invite to a room this server does not take
// part in, and the leave that rejects it, are stored outside the room's DAG
// (no state snapshot, not an extremity) but with a stream position and the
// user's current_state row, so /sync shows the invite and then its
// rejection (client-server-api "Room membership": an invite "may be
// rejected"; server-server-api "Leaving Rooms (Rejecting Invites)").

// Participating reports whether one of our users is joined to the room:
// only then does this server hold the room's live state and receive its
// events. An unknown room is not participated in.
func (s *Service) Participating(ctx context.Context, roomID spec.RoomID) (bool, error) {
	if _, err := s.st.Room(ctx, string(roomID)); errors.Is(err, store.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return s.st.HasJoinedOn(ctx, string(roomID), string(s.opts.ServerName))
}

// ResidentServers lists the other servers that had joined members in the
// room's last known state, for joining it again (server-server-api
// "Joining Rooms": any resident server can help).
func (s *Service) ResidentServers(ctx context.Context, roomID spec.RoomID) ([]spec.ServerName, error) {
	joined, err := s.st.MembersWith(ctx, string(roomID), "join")
	if err != nil {
		return nil, err
	}
	return s.serversOf(joined), nil
}

// MemberEvent returns the user's current membership event in a room, known
// or out-of-band; 404 if the user has none.
func (s *Service) MemberEvent(ctx context.Context, roomID spec.RoomID, user spec.UserID) (*event.Event, error) {
	cs, err := s.st.CurrentStateRow(ctx, string(roomID), "m.room.member", string(user))
	if errors.Is(err, store.ErrNotFound) {
		return nil, spec.NotFound("%s has no membership in %s", user, roomID)
	}
	if err != nil {
		return nil, err
	}
	row, err := s.st.EventByID(ctx, cs.EventID)
	if err != nil {
		return nil, fmt.Errorf("membership event %s: %w", cs.EventID, err)
	}
	rv, err := s.versionOf(ctx, row)
	if err != nil {
		return nil, err
	}
	return event.Parse(rv, []byte(row.JSON))
}

// versionOf finds an event's room version: the room's, or for an
// out-of-band event of an unknown room, the version recorded in its row.
func (s *Service) versionOf(ctx context.Context, row models.Event) (*event.RoomVersion, error) {
	if rv, ok := s.versions.Load(row.RoomID); ok {
		return rv.(*event.RoomVersion), nil
	}
	if room, err := s.st.Room(ctx, row.RoomID); err == nil {
		if rv := event.LookupRoomVersion(room.Version); rv != nil {
			s.versions.Store(row.RoomID, rv)
			return rv, nil
		}
		return nil, fmt.Errorf("room %s has unknown version %q", row.RoomID, room.Version)
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	// Out of band: only membership events are stored without their room;
	// the event's own shape (format 1 carries event_id) decides, and
	// every later format parses the same way.
	for _, v := range []string{"10", "1"} {
		rv := event.LookupRoomVersion(v)
		if ev, err := event.Parse(rv, []byte(row.JSON)); err == nil && ev.EventID() == row.EventID {
			return rv, nil
		}
	}
	return nil, fmt.Errorf("out-of-band event %s: cannot tell its room version", row.EventID)
}

// StoreOutOfBand stores a membership event of one of our users for a room
// we do not participate in: a remote invite or knock, or the leave that
// rejects it. It gets a stream position and becomes the user's current
// membership; the room's own state (if we knew the room before) is left
// alone. The invitee (state_key) is woken.
func (s *Service) StoreOutOfBand(ctx context.Context, ev *event.Event) error {
	if ev.Type() != "m.room.member" || ev.StateKey() == nil {
		return spec.BadJSON("only membership events are stored out of band")
	}
	if _, err := s.st.EventByID(ctx, ev.EventID()); err == nil {
		return nil // a retried invite or leave
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	w := &writer{svc: s, rv: ev.Version(), room: models.Room{RoomID: ev.RoomID()}}
	res := s.stream.Reserve(1)
	defer res.Done()
	row, err := w.row(ev, res.First)
	if err != nil {
		return err
	}
	cur := models.CurrentState{RoomID: ev.RoomID(), Type: ev.Type(), StateKey: *ev.StateKey(),
		EventNID: row.EventNID, EventID: row.EventID, Membership: row.Membership}
	err = s.st.Transaction(ctx, func(tx *store.Store) error {
		return tx.WriteRoom(ctx, &store.RoomWrite{RoomID: ev.RoomID(), Events: []models.Event{row}, CurrentState: []models.CurrentState{cur}})
	})
	if err != nil {
		return fmt.Errorf("store out-of-band %s: %w", ev.EventID(), err)
	}
	res.Done()
	s.opts.Notifier.Notify(res.Last, []string{*ev.StateKey()})
	return nil
}
