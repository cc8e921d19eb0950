package store

import (
	"context"

	"gorm.io/gorm/clause"

	"github.com/kabarchat/kabar/models"
)

// CrossSigningKeys returns a user's cross-signing keys by key type.
func (s *Store) CrossSigningKeys(ctx context.Context, userID string) (map[string]models.CrossSigningKey, error) {
	var rows []models.CrossSigningKey
	if err := s.q(ctx).Where("user_id = ?", userID).Find(&rows).Error; err != nil {
		return nil, mapErr("load cross-signing keys of "+userID, err)
	}
	out := make(map[string]models.CrossSigningKey, len(rows))
	for _, r := range rows {
		out[r.KeyType] = r
	}
	return out, nil
}

// PutCrossSigningKeys stores (replaces) cross-signing keys in one
// transaction. Signatures made on a replaced key no longer apply to it and
// are dropped.
func (s *Store) PutCrossSigningKeys(ctx context.Context, keys []models.CrossSigningKey) error {
	if len(keys) == 0 {
		return nil
	}
	return s.Transaction(ctx, func(tx *Store) error {
		for _, k := range keys {
			var old models.CrossSigningKey
			err := tx.q(ctx).Where("user_id = ? AND key_type = ?", k.UserID, k.KeyType).Take(&old).Error
			if err == nil && old.PublicKey != k.PublicKey {
				if err := tx.q(ctx).Where("target_user_id = ? AND target_key_id = ?", k.UserID, old.PublicKey).
					Delete(&models.CrossSigningSignature{}).Error; err != nil {
					return mapErr("drop signatures of replaced key", err)
				}
			}
			if err := tx.q(ctx).Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "user_id"}, {Name: "key_type"}},
				DoUpdates: clause.AssignmentColumns([]string{"public_key", "key_json"}),
			}).Create(&k).Error; err != nil {
				return mapErr("store cross-signing key "+k.KeyType, err)
			}
		}
		return nil
	})
}

// AddSignatures stores signatures; a repeated (target, signer) replaces the
// earlier one.
func (s *Store) AddSignatures(ctx context.Context, sigs []models.CrossSigningSignature) error {
	if len(sigs) == 0 {
		return nil
	}
	return mapErr("store signatures", s.q(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "target_user_id"}, {Name: "target_key_id"},
			{Name: "signer_user_id"}, {Name: "signer_key_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"signature"}),
	}).Create(&sigs).Error)
}

// SignaturesOn returns the uploaded signatures on a user's keys, optionally
// only those made by the given signers (nil for all).
func (s *Store) SignaturesOn(ctx context.Context, targetUserID string, signers []string) ([]models.CrossSigningSignature, error) {
	q := s.q(ctx).Where("target_user_id = ?", targetUserID)
	if signers != nil {
		q = q.Where("signer_user_id IN ?", signers)
	}
	var rows []models.CrossSigningSignature
	err := q.Order("target_key_id, signer_user_id, signer_key_id").Find(&rows).Error
	return rows, mapErr("load signatures on keys of "+targetUserID, err)
}
