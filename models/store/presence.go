package store

import (
	"context"

	"gorm.io/gorm/clause"

	"github.com/kabarchat/kabar/models"
)

// presenceBatch bounds the rows of one upsert statement (Postgres allows
// 65535 parameters; SQLite 32766).
const presenceBatch = 500

// LoadPresence returns every user's saved presence.
func (s *Store) LoadPresence(ctx context.Context) ([]models.PresenceState, error) {
	var rows []models.PresenceState
	err := s.q(ctx).Order("user_id").Find(&rows).Error
	return rows, mapErr("load presence", err)
}

// SavePresence upserts the given users' presence in one transaction.
func (s *Store) SavePresence(ctx context.Context, rows []models.PresenceState) error {
	if len(rows) == 0 {
		return nil
	}
	return s.Transaction(ctx, func(tx *Store) error {
		for start := 0; start < len(rows); start += presenceBatch {
			batch := rows[start:min(len(rows), start+presenceBatch)]
			err := tx.q(ctx).Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "user_id"}},
				DoUpdates: clause.AssignmentColumns([]string{"presence", "status_msg", "last_active_ts", "stream_pos"}),
			}).Create(&batch).Error
			if err != nil {
				return mapErr("store presence", err)
			}
		}
		return nil
	})
}
