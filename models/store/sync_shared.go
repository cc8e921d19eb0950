package store

import (
	"context"

	"github.com/kabarchat/kabar/models"
)

// RoomsWithEvents lists the rooms with timeline events in (from, to]: the
// user-independent half of ChangedRooms, which /sync shares between all
// the requests woken for the same range.
func (s *Store) RoomsWithEvents(ctx context.Context, from, to int64) ([]string, error) {
	var rooms []string
	err := s.q(ctx).Model(&models.Event{}).Distinct("room_id").
		Where("stream_pos > ? AND stream_pos <= ? AND NOT rejected AND NOT soft_failed", from, to).
		Order("room_id").Pluck("room_id", &rooms).Error
	return rooms, mapErr("list rooms with new events", err)
}

// MemberPosition is a user's current membership in a room and the stream
// position of the membership event.
type MemberPosition struct {
	UserID     string
	Membership string
	StreamPos  int64
}

// RoomMemberPositions lists every current membership of the room (join,
// invite, leave, ban, knock) with the position of its event.
func (s *Store) RoomMemberPositions(ctx context.Context, roomID string) ([]MemberPosition, error) {
	var rows []MemberPosition
	err := s.q(ctx).Table("current_state AS cs").
		Select("cs.state_key AS user_id, cs.membership AS membership, e.stream_pos AS stream_pos").
		Joins("JOIN events AS e ON e.event_nid = cs.event_nid").
		Where("cs.room_id = ? AND cs.type = ?", roomID, "m.room.member").Scan(&rows).Error
	return rows, mapErr("list member positions of "+roomID, err)
}
