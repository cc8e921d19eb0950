package store

import (
	"context"

	"gorm.io/gorm/clause"

	"github.com/kabarchat/kabar/models"
)

// PutReceipt inserts or moves a user's receipt of one type in a room and
// thread (client-server-api "Receipts": one receipt per user, type and
// thread; a new one replaces the old).
func (s *Store) PutReceipt(ctx context.Context, r models.Receipt) error {
	err := s.q(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "room_id"}, {Name: "type"}, {Name: "user_id"}, {Name: "thread_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"event_id", "ts", "stream_pos"}),
	}).Create(&r).Error
	return mapErr("store receipt of "+r.UserID, err)
}

// ReceiptsSince returns the room's receipts changed in (from, to].
func (s *Store) ReceiptsSince(ctx context.Context, roomID string, from, to int64) ([]models.Receipt, error) {
	var rows []models.Receipt
	err := s.q(ctx).Where("room_id = ? AND stream_pos > ? AND stream_pos <= ?", roomID, from, to).
		Order("stream_pos").Find(&rows).Error
	return rows, mapErr("read receipts of "+roomID, err)
}

// ReceiptRooms lists the rooms the user is joined to whose receipts
// changed in (from, to].
func (s *Store) ReceiptRooms(ctx context.Context, userID string, from, to int64) ([]string, error) {
	var rooms []string
	err := s.q(ctx).Table("receipts AS r").Distinct("r.room_id").
		Joins("JOIN current_state cs ON cs.room_id = r.room_id AND cs.type = ? AND cs.state_key = ? AND cs.membership = ?", "m.room.member", userID, "join").
		Where("r.stream_pos > ? AND r.stream_pos <= ?", from, to).Pluck("r.room_id", &rooms).Error
	return rooms, mapErr("list rooms with new receipts for "+userID, err)
}

// ReceiptsBetween returns the receipts of every room changed in (from, to],
// at most limit, in stream order (the application service sender's feed).
func (s *Store) ReceiptsBetween(ctx context.Context, from, to int64, limit int) ([]models.Receipt, error) {
	var rows []models.Receipt
	err := s.q(ctx).Where("stream_pos > ? AND stream_pos <= ?", from, to).
		Order("stream_pos").Limit(limit).Find(&rows).Error
	return rows, mapErr("read receipts", err)
}
