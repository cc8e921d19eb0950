package store

import (
	"context"
	"fmt"

	"github.com/kabarchat/kabar/models"
)

// ListDevices returns a user's devices ordered by device ID.
func (s *Store) ListDevices(ctx context.Context, userID string) ([]models.Device, error) {
	var ds []models.Device
	if err := s.q(ctx).Where("user_id = ?", userID).Order("device_id").Find(&ds).Error; err != nil {
		return nil, mapErr("list devices of "+userID, err)
	}
	return ds, nil
}

// GetDevice loads one device.
func (s *Store) GetDevice(ctx context.Context, userID, deviceID string) (*models.Device, error) {
	var d models.Device
	if err := s.q(ctx).Where("user_id = ? AND device_id = ?", userID, deviceID).Take(&d).Error; err != nil {
		return nil, mapErr("load device "+deviceID, err)
	}
	return &d, nil
}

// RenameDevice sets a device's display name.
func (s *Store) RenameDevice(ctx context.Context, userID, deviceID, name string) error {
	res := s.q(ctx).Model(&models.Device{}).Where("user_id = ? AND device_id = ?", userID, deviceID).
		Update("display_name", name)
	if res.Error != nil {
		return mapErr("rename device "+deviceID, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("rename device %s: %w", deviceID, ErrNotFound)
	}
	return nil
}

// DeleteDevices deletes the listed devices of a user and all their tokens in
// one transaction. Unknown device IDs are ignored.
func (s *Store) DeleteDevices(ctx context.Context, userID string, deviceIDs []string) error {
	if len(deviceIDs) == 0 {
		return nil
	}
	return s.Transaction(ctx, func(tx *Store) error { return tx.deleteDevices(ctx, userID, deviceIDs, "") })
}

// DeleteAllDevices deletes every device of a user except keep ("" keeps
// none), with their tokens.
func (s *Store) DeleteAllDevices(ctx context.Context, userID, keep string) error {
	return s.Transaction(ctx, func(tx *Store) error { return tx.deleteDevices(ctx, userID, nil, keep) })
}

// deleteDevices deletes devices (all of the user's when ids is nil) except
// keep, and their tokens. Callers run it inside a transaction.
func (s *Store) deleteDevices(ctx context.Context, userID string, ids []string, keep string) error {
	if ids == nil {
		if err := s.q(ctx).Model(&models.Device{}).Where("user_id = ? AND device_id <> ?", userID, keep).
			Pluck("device_id", &ids).Error; err != nil {
			return mapErr("list devices of "+userID, err)
		}
		// Tokens whose device row is gone are swept too.
		if err := s.q(ctx).Where("user_id = ? AND device_id <> ?", userID, keep).Delete(&models.AccessToken{}).Error; err != nil {
			return mapErr("revoke access tokens of "+userID, err)
		}
		if err := s.q(ctx).Where("user_id = ? AND device_id <> ?", userID, keep).Delete(&models.RefreshToken{}).Error; err != nil {
			return mapErr("revoke refresh tokens of "+userID, err)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	if err := s.deleteTokens(ctx, userID, ids); err != nil {
		return err
	}
	return mapErr("delete devices of "+userID,
		s.q(ctx).Where("user_id = ? AND device_id IN ?", userID, ids).Delete(&models.Device{}).Error)
}

// deleteTokens revokes every access and refresh token of the given devices.
func (s *Store) deleteTokens(ctx context.Context, userID string, deviceIDs []string) error {
	if err := s.q(ctx).Where("user_id = ? AND device_id IN ?", userID, deviceIDs).Delete(&models.AccessToken{}).Error; err != nil {
		return mapErr("revoke access tokens", err)
	}
	return mapErr("revoke refresh tokens",
		s.q(ctx).Where("user_id = ? AND device_id IN ?", userID, deviceIDs).Delete(&models.RefreshToken{}).Error)
}
