package notifications

import (
	"context"
	"errors"
	"fmt"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/eventauth"
	"github.com/kabarchat/kabar/models/store"
)

// The sender_notification_permission condition compares the sender's
// power level with the room's notifications level (client-server-api
// "Conditions"). The levels are the ones the auth rules use
// (eventauth.PowerLevelsFromState): from room version 12 the creators, the
// create event's sender and content.additional_creators, have infinite
// power and are never in the users map (rooms/v12.md "Room creators"), and
// before it a room without power levels gives its creator 100.

// loadPower reads the room's version and create event (which never
// change) into info, then its power levels.
func (s *Service) loadPower(ctx context.Context, info *roomInfo, roomID string) error {
	room, err := s.st.Room(ctx, roomID)
	if errors.Is(err, store.ErrNotFound) {
		info.power = eventauth.DefaultPowerLevels() // no state known here
		return nil
	}
	if err != nil {
		return err
	}
	if info.version = event.LookupRoomVersion(room.Version); info.version == nil {
		// Not stalling the worker on it: defaults, as for an unknown room.
		s.log.Warn("unknown room version, default power levels", "room", roomID, "version", room.Version)
	}
	if info.create, err = s.stateEvent(ctx, info.version, roomID, eventauth.TypeCreate); err != nil {
		return err
	}
	return s.refreshPower(ctx, info, roomID)
}

// refreshPower re-reads the room's current power levels.
func (s *Service) refreshPower(ctx context.Context, info *roomInfo, roomID string) error {
	pl, err := s.stateEvent(ctx, info.version, roomID, eventauth.TypePowerLevels)
	if err != nil {
		return err
	}
	info.power = eventauth.PowerLevelsFromState(info.create, pl)
	return nil
}

// stateEvent parses the room's current (typ, "") state event as served
// (redacted if a redaction of it was accepted). It returns an untyped nil,
// as eventauth.PowerLevelsFromState wants, when there is none, the room
// version is unknown or the stored event does not parse (logged: the
// worker skips rather than stalls on it).
func (s *Service) stateEvent(ctx context.Context, rv *event.RoomVersion, roomID, typ string) (eventauth.Event, error) {
	if rv == nil {
		return nil, nil
	}
	cs, err := s.st.CurrentStateRow(ctx, roomID, typ, "")
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	row, err := s.st.EventByID(ctx, cs.EventID)
	if err != nil {
		return nil, fmt.Errorf("load %s of %s: %w", typ, roomID, err)
	}
	ev, err := event.Parse(rv, []byte(row.JSON))
	if err == nil && row.RedactedBy != "" {
		ev, err = ev.Redact()
	}
	if err != nil {
		s.log.Warn("stored state event does not parse, ignored", "room", roomID, "type", typ, "err", err)
		return nil, nil
	}
	return ev, nil
}
