package store

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm/clause"

	"github.com/kabarchat/kabar/models"
)

// Pushers lists a user's pushers.
func (s *Store) Pushers(ctx context.Context, userID string) ([]models.Pusher, error) {
	var rows []models.Pusher
	err := s.q(ctx).Where("user_id = ?", userID).Order("created_at, app_id, pushkey").Find(&rows).Error
	return rows, mapErr("list pushers of "+userID, err)
}

// PutPusher creates or updates a pusher. Without appendOthers, pushers of
// other users with the same app_id and pushkey are removed (pusher.yaml
// "append").
func (s *Store) PutPusher(ctx context.Context, p models.Pusher, appendOthers bool) error {
	return s.Transaction(ctx, func(tx *Store) error {
		if !appendOthers {
			err := tx.q(ctx).Where("app_id = ? AND pushkey = ? AND user_id <> ?", p.AppID, p.Pushkey, p.UserID).Delete(&models.Pusher{}).Error
			if err != nil {
				return mapErr("replace pushers", err)
			}
		}
		err := tx.q(ctx).Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "user_id"}, {Name: "app_id"}, {Name: "pushkey"}},
			DoUpdates: clause.AssignmentColumns([]string{"kind", "app_display_name", "device_display_name", "profile_tag", "lang", "data", "device_id"}),
		}).Create(&p).Error
		return mapErr("store pusher", err)
	})
}

// DeletePusher removes a user's pusher; deleting a missing one is not an
// error (pusher.yaml: kind null deletes).
func (s *Store) DeletePusher(ctx context.Context, userID, appID, pushkey string) error {
	err := s.q(ctx).Where("user_id = ? AND app_id = ? AND pushkey = ?", userID, appID, pushkey).Delete(&models.Pusher{}).Error
	return mapErr("delete pusher", err)
}

// AddNotifications records notifications (one per user and event) in
// multi-row INSERTs that do not read the new IDs back (nobody needs them;
// GORM's Create scanned one back per row).
func (s *Store) AddNotifications(ctx context.Context, rows []models.Notification) error {
	per := 2000 // 16,000 parameters, under Postgres's 65,535: fewer round trips
	if s.dialect == SQLite {
		// One row a statement: a multi-row INSERT inside the transaction
		// makes SQLite keep a statement journal (spilled to a temp file)
		// and the driver binds each parameter by a scan of all of them;
		// 3,000 rows took 0.21-0.33 s one a statement, 0.44-0.52 s at 20
		// or 100 a statement (BenchmarkBigRoomMessage limit, same run).
		per = 1
	}
	for len(rows) > 0 {
		n := min(len(rows), per)
		var b strings.Builder
		b.WriteString("INSERT INTO notifications (user_id, room_id, stream_pos, event_id, thread_id, highlight, actions, ts) VALUES ")
		args := make([]any, 0, 8*n)
		for i, r := range rows[:n] {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(?,?,?,?,?,?,?,?)")
			args = append(args, r.UserID, r.RoomID, r.StreamPos, r.EventID, r.ThreadID, r.Highlight, r.Actions, r.TS)
		}
		if err := s.q(ctx).Exec(b.String(), args...).Error; err != nil {
			return mapErr("store notifications", err)
		}
		rows = rows[n:]
	}
	return nil
}

// ReadPosition is where the user's unread counts start in the room: the
// stream position of the event their latest unthreaded m.read or
// m.read.private receipt points at (receipts.md), or of their join when
// that is later (nothing before the join is unread for them).
func (s *Store) ReadPosition(ctx context.Context, userID, roomID string) (int64, error) {
	var receipt, join int64
	err := s.q(ctx).Table("receipts AS r").Joins("JOIN events e ON e.event_id = r.event_id").
		Where("r.room_id = ? AND r.user_id = ? AND r.type IN ? AND r.thread_id = ''", roomID, userID, []string{"m.read", "m.read.private"}).
		Select("COALESCE(MAX(e.stream_pos), 0)").Scan(&receipt).Error
	if err != nil {
		return 0, mapErr("read position of "+userID+" in "+roomID, err)
	}
	err = s.q(ctx).Table("current_state AS cs").Joins("JOIN events e ON e.event_nid = cs.event_nid").
		Where("cs.room_id = ? AND cs.type = ? AND cs.state_key = ? AND cs.membership = ?", roomID, "m.room.member", userID, "join").
		Select("COALESCE(MAX(e.stream_pos), 0)").Scan(&join).Error
	return max(receipt, join), mapErr("join position of "+userID+" in "+roomID, err)
}

// UnreadCounts counts the user's notifications and highlights in the room
// after position read.
func (s *Store) UnreadCounts(ctx context.Context, userID, roomID string, read int64) (notify, highlight int64, err error) {
	var row struct{ N, H int64 }
	err = s.q(ctx).Model(&models.Notification{}).
		Select("COUNT(*) AS n, COALESCE(SUM(CASE WHEN highlight THEN 1 ELSE 0 END), 0) AS h").
		Where("user_id = ? AND room_id = ? AND stream_pos > ?", userID, roomID, read).Scan(&row).Error
	return row.N, row.H, mapErr(fmt.Sprintf("count notifications of %s in %s", userID, roomID), err)
}

// NotificationsFor lists the user's notifications newest first, with IDs
// below before (0: from the newest), at most limit, only highlights when
// asked.
func (s *Store) NotificationsFor(ctx context.Context, userID string, before int64, limit int, onlyHighlight bool) ([]models.Notification, error) {
	q := s.q(ctx).Where("user_id = ?", userID)
	if before > 0 {
		q = q.Where("id < ?", before)
	}
	if onlyHighlight {
		q = q.Where("highlight = ?", true)
	}
	var rows []models.Notification
	err := q.Order("id DESC").Limit(limit).Find(&rows).Error
	return rows, mapErr("list notifications of "+userID, err)
}

// StreamEventsBetween returns accepted events of every room in (from, to]
// by stream position, at most limit (the push worker's feed).
func (s *Store) StreamEventsBetween(ctx context.Context, from, to int64, limit int) ([]models.Event, error) {
	var rows []models.Event
	err := s.q(ctx).Where("stream_pos > ? AND stream_pos <= ? AND rejected = ? AND soft_failed = ?", from, to, false, false).
		Order("stream_pos").Limit(limit).Find(&rows).Error
	return rows, mapErr("read event stream", err)
}

// UsersWithPushers lists the users that have at least one pusher.
func (s *Store) UsersWithPushers(ctx context.Context) ([]string, error) {
	var users []string
	err := s.q(ctx).Model(&models.Pusher{}).Distinct("user_id").Pluck("user_id", &users).Error
	return users, mapErr("list users with pushers", err)
}

// DeletePushersByKey removes every pusher with app_id and pushkey (the
// gateway rejected the pushkey).
func (s *Store) DeletePushersByKey(ctx context.Context, appID, pushkey string) error {
	err := s.q(ctx).Where("app_id = ? AND pushkey = ?", appID, pushkey).Delete(&models.Pusher{}).Error
	return mapErr("delete rejected pushers", err)
}

// JoinedMembersSince returns the room's joined members with the stream
// position of their join event: a user is notified only of events after
// they joined.
func (s *Store) JoinedMembersSince(ctx context.Context, roomID string) (map[string]int64, error) {
	var rows []struct {
		StateKey  string
		StreamPos int64
	}
	err := s.q(ctx).Table("current_state AS cs").Select("cs.state_key AS state_key, e.stream_pos AS stream_pos").
		Joins("JOIN events e ON e.event_nid = cs.event_nid").
		Where("cs.room_id = ? AND cs.type = ? AND cs.membership = ?", roomID, "m.room.member", "join").
		Scan(&rows).Error
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.StateKey] = r.StreamPos
	}
	return out, mapErr("list joined members of "+roomID, err)
}

// NotifiedRooms lists the rooms where the user has any notification (an
// initial sync skips the count queries for all the others).
func (s *Store) NotifiedRooms(ctx context.Context, userID string) ([]string, error) {
	var rooms []string
	err := s.q(ctx).Model(&models.Notification{}).Where("user_id = ?", userID).Distinct("room_id").Pluck("room_id", &rooms).Error
	return rooms, mapErr("list rooms with notifications for "+userID, err)
}

// ThreadReadPositions maps each thread ID ("main" included) to the stream
// position of the event the user's threaded m.read/m.read.private receipt
// in the room points at (receipts.md "Threaded read receipts").
func (s *Store) ThreadReadPositions(ctx context.Context, userID, roomID string) (map[string]int64, error) {
	var rows []struct {
		ThreadID  string
		StreamPos int64
	}
	err := s.q(ctx).Table("receipts AS r").Joins("JOIN events e ON e.event_id = r.event_id").
		Where("r.room_id = ? AND r.user_id = ? AND r.type IN ? AND r.thread_id <> ''", roomID, userID, []string{"m.read", "m.read.private"}).
		Group("r.thread_id").Select("r.thread_id AS thread_id, MAX(e.stream_pos) AS stream_pos").Scan(&rows).Error
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.ThreadID] = r.StreamPos
	}
	return out, mapErr("threaded read positions of "+userID+" in "+roomID, err)
}

// NotificationsAfter returns the user's notifications in the room after
// position after (the candidates for threaded unread counts).
func (s *Store) NotificationsAfter(ctx context.Context, userID, roomID string, after int64) ([]models.Notification, error) {
	var rows []models.Notification
	err := s.q(ctx).Select("thread_id", "stream_pos", "highlight").
		Where("user_id = ? AND room_id = ? AND stream_pos > ?", userID, roomID, after).Find(&rows).Error
	return rows, mapErr("unread notifications of "+userID+" in "+roomID, err)
}
