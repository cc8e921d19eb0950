package store

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/kabarchat/kabar/models"
)

// PutDeviceKeys stores a device's identity keys. Re-uploading the identical
// object is a no-op; a different object for the same device is ErrConflict
// (client-server-api "Uploading keys": a device's identity keys never change).
// changed reports whether a new row was written.
func (s *Store) PutDeviceKeys(ctx context.Context, userID, deviceID, keyJSON string) (changed bool, err error) {
	var cur models.DeviceKeys
	err = s.q(ctx).Where("user_id = ? AND device_id = ?", userID, deviceID).Take(&cur).Error
	switch {
	case err == nil && cur.KeyJSON == keyJSON:
		return false, nil
	case err == nil:
		return false, fmt.Errorf("device keys of %s/%s: %w", userID, deviceID, ErrConflict)
	case !errors.Is(err, gorm.ErrRecordNotFound):
		return false, mapErr("load device keys", err)
	}
	row := models.DeviceKeys{UserID: userID, DeviceID: deviceID, KeyJSON: keyJSON}
	if err := s.q(ctx).Create(&row).Error; err != nil {
		return false, mapErr("store device keys of "+deviceID, err)
	}
	return true, nil
}

// ReplaceDeviceKeys overwrites a (remote) device's cached keys.
func (s *Store) ReplaceDeviceKeys(ctx context.Context, rows []models.DeviceKeys) error {
	if len(rows) == 0 {
		return nil
	}
	return mapErr("cache device keys", s.q(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "user_id"}, {Name: "device_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"key_json"}),
	}).Create(&rows).Error)
}

// DeleteDeviceKeysOf removes every key of the listed devices (device
// deletion: device keys, one-time and fallback keys, inbox).
func (s *Store) DeleteDeviceKeysOf(ctx context.Context, userID string, deviceIDs []string) error {
	for _, m := range []any{&models.DeviceKeys{}, &models.OneTimeKey{}, &models.FallbackKey{}, &models.ToDeviceMessage{}} {
		if err := s.q(ctx).Where("user_id = ? AND device_id IN ?", userID, deviceIDs).Delete(m).Error; err != nil {
			return mapErr("delete keys of devices of "+userID, err)
		}
	}
	return nil
}

// DeviceKeysOf returns the stored device keys of a user's devices (all of
// them when deviceIDs is empty).
func (s *Store) DeviceKeysOf(ctx context.Context, userID string, deviceIDs []string) ([]models.DeviceKeys, error) {
	q := s.q(ctx).Where("user_id = ?", userID)
	if len(deviceIDs) > 0 {
		q = q.Where("device_id IN ?", deviceIDs)
	}
	var rows []models.DeviceKeys
	err := q.Order("device_id").Find(&rows).Error
	return rows, mapErr("load device keys of "+userID, err)
}

// AddOneTimeKeys stores new one-time keys. A key ID already stored with the
// same content is skipped; with different content it is ErrConflict and
// nothing is stored.
func (s *Store) AddOneTimeKeys(ctx context.Context, keys []models.OneTimeKey) error {
	if len(keys) == 0 {
		return nil
	}
	return s.Transaction(ctx, func(tx *Store) error {
		ids := make([]string, len(keys))
		for i, k := range keys {
			ids[i] = k.KeyID
		}
		var have []models.OneTimeKey
		if err := tx.q(ctx).Where("user_id = ? AND device_id = ? AND key_id IN ?", keys[0].UserID, keys[0].DeviceID, ids).
			Find(&have).Error; err != nil {
			return mapErr("load one-time keys", err)
		}
		existing := make(map[string]string, len(have))
		for _, h := range have {
			existing[h.KeyID] = h.KeyJSON
		}
		fresh := keys[:0:0]
		for _, k := range keys {
			if old, ok := existing[k.KeyID]; ok {
				if old != k.KeyJSON {
					return fmt.Errorf("one-time key %s: %w", k.KeyID, ErrConflict)
				}
				continue
			}
			fresh = append(fresh, k)
		}
		if len(fresh) == 0 {
			return nil
		}
		return mapErr("store one-time keys", tx.q(ctx).Create(&fresh).Error)
	})
}

// OneTimeKeyCounts counts a device's unclaimed one-time keys per algorithm.
func (s *Store) OneTimeKeyCounts(ctx context.Context, userID, deviceID string) (map[string]int, error) {
	var rows []struct {
		Algorithm string
		N         int
	}
	err := s.q(ctx).Model(&models.OneTimeKey{}).Select("algorithm, COUNT(*) AS n").
		Where("user_id = ? AND device_id = ?", userID, deviceID).Group("algorithm").Scan(&rows).Error
	if err != nil {
		return nil, mapErr("count one-time keys", err)
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.Algorithm] = r.N
	}
	return out, nil
}

// ClaimOneTimeKey takes the oldest one-time key of the algorithm; each key
// is returned at most once, also under concurrent claims (the DELETE decides
// who got it). With none left it returns the fallback key, marking it used.
// ErrNotFound means there is neither.
func (s *Store) ClaimOneTimeKey(ctx context.Context, userID, deviceID, algorithm string) (keyID, keyJSON string, err error) {
	for range 8 {
		var k models.OneTimeKey
		err := s.q(ctx).Where("user_id = ? AND device_id = ? AND algorithm = ?", userID, deviceID, algorithm).
			Order("batch, key_id").Take(&k).Error
		if err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				break
			}
			return "", "", mapErr("claim one-time key", err)
		}
		res := s.q(ctx).Where("user_id = ? AND device_id = ? AND key_id = ?", userID, deviceID, k.KeyID).
			Delete(&models.OneTimeKey{})
		if res.Error != nil {
			return "", "", mapErr("claim one-time key", res.Error)
		}
		if res.RowsAffected == 1 {
			return k.KeyID, k.KeyJSON, nil
		}
	}
	var fb models.FallbackKey
	if err := s.q(ctx).Where("user_id = ? AND device_id = ? AND algorithm = ?", userID, deviceID, algorithm).
		Take(&fb).Error; err != nil {
		return "", "", mapErr("claim fallback key of "+deviceID, err)
	}
	if !fb.Used {
		if err := s.q(ctx).Model(&fb).Where("user_id = ? AND device_id = ? AND algorithm = ?", userID, deviceID, algorithm).
			Update("used", true).Error; err != nil {
			return "", "", mapErr("mark fallback key used", err)
		}
	}
	return fb.KeyID, fb.KeyJSON, nil
}

// PutFallbackKey stores the fallback key for an algorithm, replacing the
// previous one (the server keeps one per algorithm). Re-uploading the same
// key keeps its used flag.
func (s *Store) PutFallbackKey(ctx context.Context, k models.FallbackKey) error {
	return s.Transaction(ctx, func(tx *Store) error {
		var cur models.FallbackKey
		err := tx.q(ctx).Where("user_id = ? AND device_id = ? AND algorithm = ?", k.UserID, k.DeviceID, k.Algorithm).Take(&cur).Error
		if err == nil && cur.KeyID == k.KeyID && cur.KeyJSON == k.KeyJSON {
			return nil
		}
		if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return mapErr("load fallback key", err)
		}
		k.Used = false
		return mapErr("store fallback key", tx.q(ctx).Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "user_id"}, {Name: "device_id"}, {Name: "algorithm"}},
			DoUpdates: clause.AssignmentColumns([]string{"key_id", "key_json", "used"}),
		}).Create(&k).Error)
	})
}

// UnusedFallbackKeyTypes lists the algorithms with an unused fallback key.
func (s *Store) UnusedFallbackKeyTypes(ctx context.Context, userID, deviceID string) ([]string, error) {
	out := []string{}
	err := s.q(ctx).Model(&models.FallbackKey{}).Where("user_id = ? AND device_id = ? AND NOT used", userID, deviceID).
		Order("algorithm").Pluck("algorithm", &out).Error
	return out, mapErr("list unused fallback keys", err)
}
