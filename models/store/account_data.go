package store

import (
	"context"
	"fmt"

	"gorm.io/gorm/clause"

	"github.com/kabarchat/kabar/models"
)

// PutAccountData inserts or replaces one account data entry (roomID "" for
// global data) at stream position pos, which the caller allocates from the
// account data stream (clientapi/sync) so /sync sees changes in order.
// content must already be canonical JSON.
func (s *Store) PutAccountData(ctx context.Context, userID, roomID, typ, content string, pos int64) error {
	row := models.AccountData{UserID: userID, RoomID: roomID, Type: typ, Content: content, StreamPos: pos}
	err := s.q(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "user_id"}, {Name: "room_id"}, {Name: "type"}},
		DoUpdates: clause.AssignmentColumns([]string{"content", "stream_pos"}),
	}).Create(&row).Error
	return mapErr(fmt.Sprintf("store account data %s of %s", typ, userID), err)
}

// GetAccountData loads one entry's content.
func (s *Store) GetAccountData(ctx context.Context, userID, roomID, typ string) (string, error) {
	var row models.AccountData
	err := s.q(ctx).Where("user_id = ? AND room_id = ? AND type = ?", userID, roomID, typ).Take(&row).Error
	if err != nil {
		return "", mapErr(fmt.Sprintf("load account data %s of %s", typ, userID), err)
	}
	return row.Content, nil
}
