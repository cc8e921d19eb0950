package store

import (
	"context"
	"fmt"
)

// UnreadCountsNow counts the user's notifications and highlights in the
// room after their read position (ReadPosition: the later of their latest
// unthreaded m.read/m.read.private receipt and their join) in one query.
// It answers what ReadPosition followed by UnreadCounts answers, in one
// round trip instead of three: every /sync woken by a message asks it for
// the message's room.
func (s *Store) UnreadCountsNow(ctx context.Context, userID, roomID string) (notify, highlight int64, err error) {
	var row struct{ N, H int64 }
	err = s.q(ctx).Raw(`SELECT COUNT(*) AS n, COALESCE(SUM(CASE WHEN highlight THEN 1 ELSE 0 END), 0) AS h
FROM notifications WHERE user_id = ? AND room_id = ?
 AND stream_pos > COALESCE((SELECT MAX(e.stream_pos) FROM receipts r JOIN events e ON e.event_id = r.event_id
   WHERE r.room_id = ? AND r.user_id = ? AND r.type IN ? AND r.thread_id = ''), 0)
 AND stream_pos > COALESCE((SELECT MAX(e.stream_pos) FROM current_state cs JOIN events e ON e.event_nid = cs.event_nid
   WHERE cs.room_id = ? AND cs.type = ? AND cs.state_key = ? AND cs.membership = ?), 0)`,
		userID, roomID, roomID, userID, []string{"m.read", "m.read.private"}, roomID, "m.room.member", userID, "join").
		Scan(&row).Error
	return row.N, row.H, mapErr(fmt.Sprintf("count unread notifications of %s in %s", userID, roomID), err)
}

// RoomUnread is one room's unread counts (UnreadCountsByRoom).
type RoomUnread struct {
	RoomID string
	N, H   int64
}

// UnreadCountsByRoom is UnreadCountsNow for every room where the user has
// notifications after their read position, in one query: an initial sync
// of a user in hundreds of rooms would otherwise ask once per room. Rooms
// without a row have no unread notifications.
func (s *Store) UnreadCountsByRoom(ctx context.Context, userID string) ([]RoomUnread, error) {
	var rows []RoomUnread
	err := s.q(ctx).Raw(`SELECT n.room_id AS room_id, COUNT(*) AS n, COALESCE(SUM(CASE WHEN n.highlight THEN 1 ELSE 0 END), 0) AS h
FROM notifications n WHERE n.user_id = ?
 AND n.stream_pos > COALESCE((SELECT MAX(e.stream_pos) FROM receipts r JOIN events e ON e.event_id = r.event_id
   WHERE r.room_id = n.room_id AND r.user_id = n.user_id AND r.type IN ? AND r.thread_id = ''), 0)
 AND n.stream_pos > COALESCE((SELECT MAX(e.stream_pos) FROM current_state cs JOIN events e ON e.event_nid = cs.event_nid
   WHERE cs.room_id = n.room_id AND cs.type = ? AND cs.state_key = n.user_id AND cs.membership = ?), 0)
GROUP BY n.room_id`,
		userID, []string{"m.read", "m.read.private"}, "m.room.member", "join").Scan(&rows).Error
	return rows, mapErr("count unread notifications of "+userID+" by room", err)
}
