package store

import (
	"context"
	"fmt"

	"github.com/kabarchat/kabar/models"
)

// Reads for /sync. They are range scans on stream positions, so an
// incremental sync costs what changed, not how many rooms the user is in.

// RoomMembership is a room and the user's current membership in it.
type RoomMembership struct {
	RoomID     string
	Membership string
}

// UserMemberships lists every room where the user has a current membership
// (join, invite, leave, ban, knock): the rooms of an initial /sync.
func (s *Store) UserMemberships(ctx context.Context, userID string) ([]RoomMembership, error) {
	var rows []RoomMembership
	err := s.q(ctx).Model(&models.CurrentState{}).Select("room_id, membership").
		Where("state_key = ? AND type = ?", userID, "m.room.member").Order("room_id").Scan(&rows).Error
	return rows, mapErr("list memberships of "+userID, err)
}

// ChangedRooms lists the rooms with timeline events in (from, to] where the
// user has a current membership, with that membership. The scan walks the
// stream range (idx_events_stream) and joins the user's membership rows.
func (s *Store) ChangedRooms(ctx context.Context, userID string, from, to int64) ([]RoomMembership, error) {
	var rows []RoomMembership
	err := s.q(ctx).Table("events AS e").
		Select("DISTINCT e.room_id AS room_id, cs.membership AS membership").
		Joins("JOIN current_state cs ON cs.room_id = e.room_id AND cs.type = ? AND cs.state_key = ?", "m.room.member", userID).
		Where("e.stream_pos > ? AND e.stream_pos <= ? AND NOT e.rejected AND NOT e.soft_failed", from, to).
		Order("e.room_id").Scan(&rows).Error
	return rows, mapErr("list changed rooms of "+userID, err)
}

// RoomMembership returns the user's current membership in one room ("" if
// none).
func (s *Store) CurrentMembership(ctx context.Context, roomID, userID string) (string, error) {
	var m []string
	err := s.q(ctx).Model(&models.CurrentState{}).
		Where("room_id = ? AND type = ? AND state_key = ?", roomID, "m.room.member", userID).Pluck("membership", &m).Error
	if err != nil || len(m) == 0 {
		return "", mapErr("load membership of "+userID, err)
	}
	return m[0], nil
}

// RoomTimelineTail returns up to limit timeline events of the room with
// from < stream_pos <= to, newest first (the tail of a /sync timeline).
func (s *Store) RoomTimelineTail(ctx context.Context, roomID string, from, to int64, limit int) ([]models.Event, error) {
	var events []models.Event
	err := s.q(ctx).Where("room_id = ? AND stream_pos > ? AND stream_pos <= ? AND NOT rejected AND NOT soft_failed",
		roomID, max(from, 0), to).Order("stream_pos DESC").Limit(limit).Find(&events).Error
	return events, mapErr("read timeline of "+roomID, err)
}

// StateEventsBetween returns the room's state events with
// from < stream_pos < before, oldest first (the state a limited incremental
// timeline skipped over).
func (s *Store) StateEventsBetween(ctx context.Context, roomID string, from, before int64) ([]models.Event, error) {
	var events []models.Event
	err := s.q(ctx).Where("room_id = ? AND state_key IS NOT NULL AND stream_pos > ? AND stream_pos < ? AND NOT rejected AND NOT soft_failed",
		roomID, from, before).Order("stream_pos").Find(&events).Error
	return events, mapErr("read state changes of "+roomID, err)
}

// MemberCounts counts the room's joined and invited members.
func (s *Store) MemberCounts(ctx context.Context, roomID string) (joined, invited int64, err error) {
	var rows []struct {
		Membership string
		N          int64
	}
	err = s.q(ctx).Model(&models.CurrentState{}).Select("membership, COUNT(*) AS n").
		Where("room_id = ? AND type = ? AND membership IN ?", roomID, "m.room.member", []string{"join", "invite"}).
		Group("membership").Scan(&rows).Error
	if err != nil {
		return 0, 0, fmt.Errorf("count members of %s: %w", roomID, err)
	}
	for _, r := range rows {
		if r.Membership == "join" {
			joined = r.N
		} else {
			invited = r.N
		}
	}
	return joined, invited, nil
}

// Heroes returns up to limit joined or invited members other than userID,
// ordered by user ID (the room summary's m.heroes), falling back to members
// who left when nobody else is there.
func (s *Store) Heroes(ctx context.Context, roomID, userID string, limit int) ([]string, error) {
	for _, ms := range [][]string{{"join", "invite"}, {"leave", "ban"}} {
		var users []string
		err := s.q(ctx).Model(&models.CurrentState{}).
			Where("room_id = ? AND type = ? AND state_key <> ? AND membership IN ?", roomID, "m.room.member", userID, ms).
			Order("state_key").Limit(limit).Pluck("state_key", &users).Error
		if err != nil {
			return nil, mapErr("list heroes of "+roomID, err)
		}
		if len(users) > 0 {
			return users, nil
		}
	}
	return nil, nil
}

// AccountDataSince returns the user's account data (global and per room)
// changed in (from, to].
func (s *Store) AccountDataSince(ctx context.Context, userID string, from, to int64) ([]models.AccountData, error) {
	var rows []models.AccountData
	err := s.q(ctx).Where("user_id = ? AND stream_pos > ? AND stream_pos <= ?", userID, from, to).
		Order("stream_pos").Find(&rows).Error
	return rows, mapErr("read account data of "+userID, err)
}

// MaxStreamPos returns the highest stream_pos of a side-stream table
// (account_data, receipts), so its allocator continues after it.
func (s *Store) MaxStreamPos(ctx context.Context, table string) (int64, error) {
	switch table {
	case "account_data", "receipts":
	default:
		return 0, fmt.Errorf("no stream in table %q", table)
	}
	var pos int64
	err := s.q(ctx).Table(table).Select("COALESCE(MAX(stream_pos), 0)").Scan(&pos).Error
	return pos, mapErr("read highest position of "+table, err)
}
