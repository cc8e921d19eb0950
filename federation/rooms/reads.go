package rooms

import (
	"context"
	"errors"
	"fmt"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/eventauth"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// Reads return parsed events, already redacted when a redaction of them was
// accepted (client-server-api "Redactions": the server serves the redacted
// form); visibility checks (history_visibility, membership) are the
// caller's job.

// Room returns a room's stored record; 404 M_NOT_FOUND if unknown.
func (s *Service) Room(ctx context.Context, roomID spec.RoomID) (models.Room, *event.RoomVersion, error) {
	room, err := s.st.Room(ctx, string(roomID))
	if errors.Is(err, store.ErrNotFound) {
		return room, nil, spec.NotFound("unknown room %s", roomID)
	}
	if err != nil {
		return room, nil, err
	}
	rv := event.LookupRoomVersion(room.Version)
	if rv == nil {
		return room, nil, fmt.Errorf("room %s has unknown version %q", roomID, room.Version)
	}
	return room, rv, nil
}

// Event returns one event by ID (with its stored row for stream position and
// redaction status); 404 if unknown.
func (s *Service) Event(ctx context.Context, eventID spec.EventID) (*event.Event, models.Event, error) {
	row, err := s.st.EventByID(ctx, string(eventID))
	if errors.Is(err, store.ErrNotFound) {
		return nil, row, spec.NotFound("unknown event %s", eventID)
	}
	if err != nil {
		return nil, row, err
	}
	ev, err := s.parseRow(ctx, row)
	return ev, row, err
}

func (s *Service) parseRow(ctx context.Context, row models.Event) (*event.Event, error) {
	_, rv, err := s.Room(ctx, spec.RoomID(row.RoomID))
	if err != nil {
		return nil, err
	}
	return serve(rv, row)
}

// serve parses a stored event and applies the redaction algorithm if it was
// redacted.
func serve(rv *event.RoomVersion, row models.Event) (*event.Event, error) {
	ev, err := event.Parse(rv, []byte(row.JSON))
	if err != nil {
		return nil, fmt.Errorf("stored event %s: %w", row.EventID, err)
	}
	if row.RedactedBy == "" {
		return ev, nil
	}
	red, err := ev.Redact()
	if err != nil {
		return nil, fmt.Errorf("redact stored event %s: %w", row.EventID, err)
	}
	return red, nil
}

// StateEvent returns the current state event (type, stateKey); 404 if unset.
func (s *Service) StateEvent(ctx context.Context, roomID spec.RoomID, typ, stateKey string) (*event.Event, error) {
	row, err := s.st.CurrentStateRow(ctx, string(roomID), typ, stateKey)
	if errors.Is(err, store.ErrNotFound) {
		return nil, spec.NotFound("no %s/%s state in %s", typ, stateKey, roomID)
	}
	if err != nil {
		return nil, err
	}
	ev, _, err := s.Event(ctx, spec.EventID(row.EventID))
	return ev, err
}

// State returns the room's current state events (optionally of one type).
func (s *Service) State(ctx context.Context, roomID spec.RoomID, typ string) ([]*event.Event, error) {
	room, rv, err := s.Room(ctx, roomID)
	if err != nil {
		return nil, err
	}
	rows, err := s.st.CurrentStateRows(ctx, room.RoomID, typ)
	if err != nil {
		return nil, err
	}
	nids := make([]int64, len(rows))
	for i, r := range rows {
		nids[i] = r.EventNID
	}
	return s.parseNIDs(ctx, rv, nids)
}

// StateAt returns the room state after the given event (for /members?at,
// /context), read from its snapshot.
func (s *Service) StateAt(ctx context.Context, eventID spec.EventID) ([]*event.Event, error) {
	return s.snapshotState(ctx, eventID, true)
}

// snapshotState reads the state snapshot stored with an event: the state
// after it when after is set, else the state before it.
func (s *Service) snapshotState(ctx context.Context, eventID spec.EventID, after bool) ([]*event.Event, error) {
	row, err := s.st.EventByID(ctx, string(eventID))
	if errors.Is(err, store.ErrNotFound) {
		return nil, spec.NotFound("unknown event %s", eventID)
	}
	if err != nil {
		return nil, fmt.Errorf("load event %s: %w", eventID, err)
	}
	_, rv, err := s.Room(ctx, spec.RoomID(row.RoomID))
	if err != nil {
		return nil, err
	}
	snap := row.StateBefore
	if after {
		snap = row.StateAfter
	}
	return s.snapshotEvents(ctx, rv, snap)
}

func (s *Service) parseNIDs(ctx context.Context, rv *event.RoomVersion, nids []int64) ([]*event.Event, error) {
	rows, err := s.st.EventsByNID(ctx, nids)
	if err != nil {
		return nil, err
	}
	out := make([]*event.Event, 0, len(rows))
	for _, r := range rows {
		ev, err := serve(rv, r)
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, nil
}

// Members lists user IDs with the given current membership in the room.
func (s *Service) Members(ctx context.Context, roomID spec.RoomID, membership string) ([]string, error) {
	return s.st.MembersWith(ctx, string(roomID), membership)
}

// JoinedRooms lists the rooms the user is joined to.
func (s *Service) JoinedRooms(ctx context.Context, userID spec.UserID) ([]string, error) {
	return s.st.RoomsOfUser(ctx, string(userID), "join")
}

// ParseRows parses stored events (of any rooms) as they are served: redacted
// when a redaction of them was accepted.
func (s *Service) ParseRows(ctx context.Context, rows []models.Event) ([]*event.Event, error) {
	versions := map[string]*event.RoomVersion{}
	out := make([]*event.Event, len(rows))
	for i, r := range rows {
		rv, ok := versions[r.RoomID]
		if !ok {
			var err error
			// versionOf also knows out-of-band events of unknown rooms.
			if rv, err = s.versionOf(ctx, r); err != nil {
				return nil, err
			}
			versions[r.RoomID] = rv
		}
		ev, err := s.parsed.serve(rv, r)
		if err != nil {
			return nil, err
		}
		out[i] = ev
	}
	return out, nil
}

// Store is the storage the service writes through (for readers that need
// plain queries next to the service's parsed reads).
func (s *Service) Store() *store.Store { return s.st }

// PowerLevels returns the power levels in force in the room (for client
// checks outside the auth rules: directory visibility, alias deletion).
func (s *Service) PowerLevels(ctx context.Context, roomID spec.RoomID) (*eventauth.PowerLevels, error) {
	create, err := s.StateEvent(ctx, roomID, eventauth.TypeCreate, "")
	if err != nil {
		return nil, err
	}
	pl, err := s.StateEvent(ctx, roomID, eventauth.TypePowerLevels, "")
	var me *spec.Error
	if errors.As(err, &me) && me.Code == spec.ErrNotFound {
		return eventauth.PowerLevelsFromState(create, nil), nil
	}
	if err != nil {
		return nil, err
	}
	return eventauth.PowerLevelsFromState(create, pl), nil
}
