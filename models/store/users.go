package store

import (
	"context"
	"fmt"

	"github.com/kabarchat/kabar/models"
)

// CreateUser inserts a user and its profile in one transaction. A taken user
// ID (including a deactivated one) is ErrConflict.
func (s *Store) CreateUser(ctx context.Context, u *models.User, p *models.Profile) error {
	return s.Transaction(ctx, func(tx *Store) error {
		if err := tx.q(ctx).Create(u).Error; err != nil {
			return mapErr("create user "+u.UserID, err)
		}
		if err := tx.q(ctx).Create(p).Error; err != nil {
			return mapErr("create profile "+u.UserID, err)
		}
		return nil
	})
}

// GetUser loads a user by full user ID.
func (s *Store) GetUser(ctx context.Context, userID string) (*models.User, error) {
	var u models.User
	err := s.q(ctx).Where("user_id = ?", userID).Take(&u).Error
	if err != nil {
		return nil, mapErr("load user "+userID, err)
	}
	return &u, nil
}

// UserExists reports whether the user ID was ever registered.
func (s *Store) UserExists(ctx context.Context, userID string) (bool, error) {
	var n int64
	if err := s.q(ctx).Model(&models.User{}).Where("user_id = ?", userID).Count(&n).Error; err != nil {
		return false, mapErr("count user "+userID, err)
	}
	return n > 0, nil
}

// SetPasswordHash replaces a user's password hash.
func (s *Store) SetPasswordHash(ctx context.Context, userID, hash string) error {
	res := s.q(ctx).Model(&models.User{}).Where("user_id = ?", userID).Update("password_hash", hash)
	if res.Error != nil {
		return mapErr("set password of "+userID, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("set password of %s: %w", userID, ErrNotFound)
	}
	return nil
}

// DeactivateUser marks the account deactivated, forgets its password and
// deletes every device and token, in one transaction. The row stays so the
// user ID is never reused.
func (s *Store) DeactivateUser(ctx context.Context, userID string) error {
	return s.Transaction(ctx, func(tx *Store) error {
		res := tx.q(ctx).Model(&models.User{}).Where("user_id = ?", userID).
			Updates(map[string]any{"deactivated": true, "password_hash": ""})
		if res.Error != nil {
			return mapErr("deactivate "+userID, res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("deactivate %s: %w", userID, ErrNotFound)
		}
		if err := tx.deleteDevices(ctx, userID, nil, ""); err != nil {
			return err
		}
		return mapErr("delete login tokens of "+userID,
			tx.q(ctx).Where("user_id = ?", userID).Delete(&models.LoginToken{}).Error)
	})
}

// GetProfile loads a local user's profile.
func (s *Store) GetProfile(ctx context.Context, userID string) (*models.Profile, error) {
	var p models.Profile
	if err := s.q(ctx).Where("user_id = ?", userID).Take(&p).Error; err != nil {
		return nil, mapErr("load profile "+userID, err)
	}
	return &p, nil
}

// SetProfileField sets "displayname" or "avatar_url" of an existing profile.
func (s *Store) SetProfileField(ctx context.Context, userID, field, value string) error {
	column := map[string]string{"displayname": "display_name", "avatar_url": "avatar_url"}[field]
	if column == "" {
		return fmt.Errorf("set profile field %q: unknown field", field)
	}
	res := s.q(ctx).Model(&models.Profile{}).Where("user_id = ?", userID).Update(column, value)
	if res.Error != nil {
		return mapErr("set "+field+" of "+userID, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("set %s of %s: %w", field, userID, ErrNotFound)
	}
	return nil
}
