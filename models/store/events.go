package store

import (
	"context"
	"fmt"

	"github.com/kabarchat/kabar/models"
)

// EventByID loads one event. ErrNotFound if unknown.
func (s *Store) EventByID(ctx context.Context, eventID string) (models.Event, error) {
	var e models.Event
	err := s.q(ctx).Where("event_id = ?", eventID).Take(&e).Error
	return e, mapErr("load event "+eventID, err)
}

// EventsByNID loads events by NID, in no particular order; missing ones are
// simply absent.
func (s *Store) EventsByNID(ctx context.Context, nids []int64) ([]models.Event, error) {
	var events []models.Event
	for chunk := range chunks(nids) {
		var part []models.Event
		if err := s.q(ctx).Where("event_nid IN ?", chunk).Find(&part).Error; err != nil {
			return nil, mapErr("load events by NID", err)
		}
		events = append(events, part...)
	}
	return events, nil
}

// EventsByID loads events by ID, in no particular order; missing ones are
// simply absent.
func (s *Store) EventsByID(ctx context.Context, ids []string) ([]models.Event, error) {
	var events []models.Event
	for chunk := range chunks(ids) {
		var part []models.Event
		if err := s.q(ctx).Where("event_id IN ?", chunk).Find(&part).Error; err != nil {
			return nil, mapErr("load events by ID", err)
		}
		events = append(events, part...)
	}
	return events, nil
}

// chunks splits a long IN list under the engines' parameter limits.
func chunks[T any](all []T) func(func([]T) bool) {
	return func(yield func([]T) bool) {
		for len(all) > 0 {
			n := min(len(all), batchSize)
			if !yield(all[:n]) {
				return
			}
			all = all[n:]
		}
	}
}

// RoomStream returns the room's timeline events with from < stream_pos <= to,
// oldest first, at most limit (a /sync range scan). Rejected and soft-failed
// events are not part of the timeline.
func (s *Store) RoomStream(ctx context.Context, roomID string, from, to int64, limit int) ([]models.Event, error) {
	var events []models.Event
	err := s.q(ctx).Where("room_id = ? AND stream_pos > ? AND stream_pos <= ? AND NOT rejected AND NOT soft_failed",
		roomID, from, to).Order("stream_pos").Limit(limit).Find(&events).Error
	return events, mapErr("read stream of "+roomID, err)
}

// RoomStreamLatest returns the newest limit timeline events with
// 0 < stream_pos <= to, newest first (/members?at: the event at a /sync
// token). Backfilled history stays out on purpose: a /sync token names a
// point in this server's stream, and backfilled events were never part of
// it (they are history from before the server joined).
func (s *Store) RoomStreamLatest(ctx context.Context, roomID string, to int64, limit int) ([]models.Event, error) {
	var events []models.Event
	err := s.q(ctx).Where("room_id = ? AND stream_pos > 0 AND stream_pos <= ? AND NOT rejected AND NOT soft_failed",
		roomID, to).Order("stream_pos DESC").Limit(limit).Find(&events).Error
	return events, mapErr("read latest events of "+roomID, err)
}

// TopoPosition is a place in a room's topological order: (depth, stream).
type TopoPosition struct {
	Depth  int64
	Stream int64
}

// RoomTopo pages through the room in topological order (/messages): events
// strictly after from when forwards, strictly before it when backwards.
func (s *Store) RoomTopo(ctx context.Context, roomID string, from TopoPosition, backwards bool, limit int) ([]models.Event, error) {
	// Backfilled history has negative positions (backfill.go): in the
	// topological order, never in the stream.
	q := s.q(ctx).Where("room_id = ? AND stream_pos <> 0 AND NOT rejected AND NOT soft_failed", roomID)
	if backwards {
		q = q.Where("(depth < ? OR (depth = ? AND stream_pos < ?))", from.Depth, from.Depth, from.Stream).
			Order("depth DESC, stream_pos DESC")
	} else {
		q = q.Where("(depth > ? OR (depth = ? AND stream_pos > ?))", from.Depth, from.Depth, from.Stream).
			Order("depth, stream_pos")
	}
	var events []models.Event
	err := q.Limit(limit).Find(&events).Error
	return events, mapErr(fmt.Sprintf("page through %s", roomID), err)
}

// EventNearTimestamp finds the event closest to ts in the given direction
// (/timestamp_to_event): the first at or after ts forwards, the last at or
// before it backwards. Backfilled history (negative positions, backfill.go)
// counts: the endpoint asks about the room's timeline, not about what is
// new to /sync.
func (s *Store) EventNearTimestamp(ctx context.Context, roomID string, ts int64, backwards bool) (models.Event, error) {
	q := s.q(ctx).Where("room_id = ? AND stream_pos <> 0 AND NOT rejected AND NOT soft_failed", roomID)
	if backwards {
		q = q.Where("origin_server_ts <= ?", ts).Order("origin_server_ts DESC, stream_pos DESC")
	} else {
		q = q.Where("origin_server_ts >= ?", ts).Order("origin_server_ts, stream_pos")
	}
	var e models.Event
	err := q.Take(&e).Error
	return e, mapErr("find event near timestamp in "+roomID, err)
}

// MembershipEvents returns a user's membership events since a stream
// position, oldest first (for /sync to find rooms joined or left).
func (s *Store) MembershipEvents(ctx context.Context, userID string, from, to int64) ([]models.Event, error) {
	var events []models.Event
	err := s.q(ctx).Where("state_key = ? AND type = ? AND stream_pos > ? AND stream_pos <= ? AND NOT rejected AND NOT soft_failed",
		userID, "m.room.member", from, to).Order("stream_pos").Find(&events).Error
	return events, mapErr("read membership events of "+userID, err)
}
