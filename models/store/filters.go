package store

import (
	"context"
	"fmt"

	"github.com/kabarchat/kabar/models"
)

// PutFilter stores a filter and returns its ID, the user's next number.
func (s *Store) PutFilter(ctx context.Context, userID, filter string) (int64, error) {
	var id int64
	err := s.Transaction(ctx, func(tx *Store) error {
		if err := tx.q(ctx).Model(&models.Filter{}).Where("user_id = ?", userID).
			Select("COALESCE(MAX(filter_id), -1) + 1").Scan(&id).Error; err != nil {
			return mapErr("read next filter ID", err)
		}
		return mapErr("store filter of "+userID, tx.q(ctx).Create(&models.Filter{UserID: userID, FilterID: id, Filter: filter}).Error)
	})
	return id, err
}

// Filter loads a stored filter's JSON. ErrNotFound if unknown.
func (s *Store) Filter(ctx context.Context, userID string, id int64) (string, error) {
	var row models.Filter
	err := s.q(ctx).Where("user_id = ? AND filter_id = ?", userID, id).Take(&row).Error
	return row.Filter, mapErr(fmt.Sprintf("load filter %d of %s", id, userID), err)
}
