package store

import (
	"context"

	"gorm.io/gorm/clause"

	"github.com/kabarchat/kabar/models"
)

// WorkerPosition is the stream position the named worker last recorded;
// ErrNotFound when it never recorded one (a fresh database).
func (s *Store) WorkerPosition(ctx context.Context, name string) (int64, error) {
	var row models.WorkerPosition
	err := s.q(ctx).Where("name = ?", name).Take(&row).Error
	return row.Pos, mapErr("load position of worker "+name, err)
}

// SetWorkerPosition records the named worker's processed position; run it
// in the transaction that stores the batch's results so a crash never
// records a position whose results are lost.
func (s *Store) SetWorkerPosition(ctx context.Context, name string, pos int64) error {
	row := models.WorkerPosition{Name: name, Pos: pos}
	err := s.q(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "name"}},
		DoUpdates: clause.AssignmentColumns([]string{"pos"}),
	}).Create(&row).Error
	return mapErr("store position of worker "+name, err)
}
