package store

import (
	"context"
	"fmt"

	"gorm.io/gorm/clause"

	"github.com/kabarchat/kabar/models"
)

// CreateKeyBackupVersion creates the user's next backup version (one more
// than any version ever created, deleted ones included).
func (s *Store) CreateKeyBackupVersion(ctx context.Context, userID, algorithm, authData string) (int64, error) {
	var v int64
	err := s.Transaction(ctx, func(tx *Store) error {
		if err := tx.q(ctx).Model(&models.KeyBackupVersion{}).Select("COALESCE(MAX(version), 0)").
			Where("user_id = ?", userID).Scan(&v).Error; err != nil {
			return mapErr("read backup versions", err)
		}
		v++
		row := models.KeyBackupVersion{UserID: userID, Version: v, Algorithm: algorithm, AuthData: authData}
		return mapErr("create backup version", tx.q(ctx).Create(&row).Error)
	})
	return v, err
}

// KeyBackupVersion loads a live backup version; version 0 means the newest.
func (s *Store) KeyBackupVersion(ctx context.Context, userID string, version int64) (models.KeyBackupVersion, error) {
	q := s.q(ctx).Where("user_id = ? AND NOT deleted", userID)
	if version > 0 {
		q = q.Where("version = ?", version)
	} else {
		// The newest version, if it was deleted, leaves no current backup.
		q = s.q(ctx).Where("user_id = ?", userID).Order("version DESC")
	}
	var row models.KeyBackupVersion
	if err := q.Take(&row).Error; err != nil {
		return row, mapErr("load backup version", err)
	}
	if row.Deleted {
		return row, fmt.Errorf("backup version %d deleted: %w", row.Version, ErrNotFound)
	}
	return row, nil
}

// UpdateKeyBackupAuthData replaces a live version's auth_data.
func (s *Store) UpdateKeyBackupAuthData(ctx context.Context, userID string, version int64, authData string) error {
	res := s.q(ctx).Model(&models.KeyBackupVersion{}).Where("user_id = ? AND version = ? AND NOT deleted", userID, version).
		Update("auth_data", authData)
	if res.Error != nil {
		return mapErr("update backup version", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("backup version %d: %w", version, ErrNotFound)
	}
	return nil
}

// DeleteKeyBackupVersion marks a version deleted and drops its keys.
// Deleting an already deleted version succeeds; an unknown one is
// ErrNotFound.
func (s *Store) DeleteKeyBackupVersion(ctx context.Context, userID string, version int64) error {
	return s.Transaction(ctx, func(tx *Store) error {
		res := tx.q(ctx).Model(&models.KeyBackupVersion{}).Where("user_id = ? AND version = ?", userID, version).
			Update("deleted", true)
		if res.Error != nil {
			return mapErr("delete backup version", res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("backup version %d: %w", version, ErrNotFound)
		}
		return mapErr("delete backed up keys", tx.q(ctx).Where("user_id = ? AND version = ?", userID, version).
			Delete(&models.KeyBackupSession{}).Error)
	})
}

// KeyBackupCount counts the keys in a version.
func (s *Store) KeyBackupCount(ctx context.Context, userID string, version int64) (int64, error) {
	var n int64
	err := s.q(ctx).Model(&models.KeyBackupSession{}).Where("user_id = ? AND version = ?", userID, version).Count(&n).Error
	return n, mapErr("count backed up keys", err)
}

// BetterBackupKey tells whether candidate should replace existing
// (client-server-api "Server-side key backups"): a verified key beats an
// unverified one, then the lower first_message_index wins, then the lower
// forwarded_count.
func BetterBackupKey(candidate, existing models.KeyBackupSession) bool {
	if candidate.IsVerified != existing.IsVerified {
		return candidate.IsVerified
	}
	if candidate.FirstMessageIndex != existing.FirstMessageIndex {
		return candidate.FirstMessageIndex < existing.FirstMessageIndex
	}
	return candidate.ForwardedCount < existing.ForwardedCount
}

// PutBackupKeys stores keys in a live version, keeping the better of an
// existing and a new key per session, and bumps the etag if anything
// changed. It returns the version row after the write.
func (s *Store) PutBackupKeys(ctx context.Context, userID string, version int64, keys []models.KeyBackupSession) (models.KeyBackupVersion, error) {
	var out models.KeyBackupVersion
	err := s.Transaction(ctx, func(tx *Store) error {
		v, err := tx.KeyBackupVersion(ctx, userID, version)
		if err != nil {
			return err
		}
		changed := false
		for _, k := range keys {
			var old models.KeyBackupSession
			err := tx.q(ctx).Where("user_id = ? AND version = ? AND room_id = ? AND session_id = ?",
				userID, version, k.RoomID, k.SessionID).Limit(1).Find(&old).Error
			if err != nil {
				return mapErr("load backed up key", err)
			}
			if old.SessionID != "" && !BetterBackupKey(k, old) {
				continue
			}
			k.UserID, k.Version = userID, version
			if err := tx.q(ctx).Clauses(clause.OnConflict{UpdateAll: true}).Create(&k).Error; err != nil {
				return mapErr("store backed up key", err)
			}
			changed = true
		}
		if changed {
			v.Etag++
			if err := tx.q(ctx).Model(&models.KeyBackupVersion{}).Where("user_id = ? AND version = ?", userID, version).
				Update("etag", v.Etag).Error; err != nil {
				return mapErr("bump backup etag", err)
			}
		}
		out = v
		return nil
	})
	return out, err
}

// BackupKeys returns a version's keys, optionally of one room and session.
func (s *Store) BackupKeys(ctx context.Context, userID string, version int64, roomID, sessionID string) ([]models.KeyBackupSession, error) {
	q := s.q(ctx).Where("user_id = ? AND version = ?", userID, version)
	if roomID != "" {
		q = q.Where("room_id = ?", roomID)
	}
	if sessionID != "" {
		q = q.Where("session_id = ?", sessionID)
	}
	var rows []models.KeyBackupSession
	return rows, mapErr("load backed up keys", q.Order("room_id, session_id").Find(&rows).Error)
}

// DeleteBackupKeys deletes a live version's keys (all, one room's, or one
// session's) and bumps the etag. It returns the version row after.
func (s *Store) DeleteBackupKeys(ctx context.Context, userID string, version int64, roomID, sessionID string) (models.KeyBackupVersion, error) {
	var out models.KeyBackupVersion
	err := s.Transaction(ctx, func(tx *Store) error {
		v, err := tx.KeyBackupVersion(ctx, userID, version)
		if err != nil {
			return err
		}
		q := tx.q(ctx).Where("user_id = ? AND version = ?", userID, version)
		if roomID != "" {
			q = q.Where("room_id = ?", roomID)
		}
		if sessionID != "" {
			q = q.Where("session_id = ?", sessionID)
		}
		res := q.Delete(&models.KeyBackupSession{})
		if res.Error != nil {
			return mapErr("delete backed up keys", res.Error)
		}
		if res.RowsAffected > 0 {
			v.Etag++
			if err := tx.q(ctx).Model(&models.KeyBackupVersion{}).Where("user_id = ? AND version = ?", userID, version).
				Update("etag", v.Etag).Error; err != nil {
				return mapErr("bump backup etag", err)
			}
		}
		out = v
		return nil
	})
	return out, err
}
