package store

import (
	"context"
	"fmt"
	"time"

	"github.com/kabarchat/kabar/models"
)

// CreateSession upserts the device and stores its new tokens in one
// transaction. Tokens previously issued to the same device are revoked, as
// the spec requires when a login names an existing device_id
// (client-server-api "Login", device_id).
// refresh is nil when the client did not ask for a refresh token.
func (s *Store) CreateSession(ctx context.Context, d models.Device, access models.AccessToken, refresh *models.RefreshToken) error {
	return s.Transaction(ctx, func(tx *Store) error {
		var existing int64
		if err := tx.q(ctx).Model(&models.Device{}).Where("user_id = ? AND device_id = ?", d.UserID, d.DeviceID).
			Count(&existing).Error; err != nil {
			return mapErr("look up device "+d.DeviceID, err)
		}
		if existing > 0 {
			if err := tx.deleteTokens(ctx, d.UserID, []string{d.DeviceID}); err != nil {
				return err
			}
			if d.DisplayName != "" {
				if err := tx.q(ctx).Model(&models.Device{}).Where("user_id = ? AND device_id = ?", d.UserID, d.DeviceID).
					Update("display_name", d.DisplayName).Error; err != nil {
					return mapErr("rename device "+d.DeviceID, err)
				}
			}
		} else if err := tx.q(ctx).Create(&d).Error; err != nil {
			return mapErr("create device "+d.DeviceID, err)
		}
		if refresh != nil {
			if err := tx.q(ctx).Create(refresh).Error; err != nil {
				return mapErr("store refresh token", err)
			}
		}
		return mapErr("store access token", tx.q(ctx).Create(&access).Error)
	})
}

// GetAccessToken loads the token with the given hash and its user's flags.
// Tokens of a deactivated user are ErrNotFound.
func (s *Store) GetAccessToken(ctx context.Context, hash string) (*models.AccessTokenInfo, error) {
	var ti models.AccessTokenInfo
	if err := s.q(ctx).Where("token_hash = ?", hash).Take(&ti.Token).Error; err != nil {
		return nil, mapErr("load access token", err)
	}
	u, err := s.GetUser(ctx, ti.Token.UserID)
	if err != nil {
		return nil, err
	}
	if u.Deactivated {
		return nil, fmt.Errorf("load access token: user deactivated: %w", ErrNotFound)
	}
	ti.IsAdmin = u.IsAdmin
	if ti.Token.RefreshTokenHash != "" {
		var rt models.RefreshToken
		err := s.q(ctx).Where("token_hash = ?", ti.Token.RefreshTokenHash).Take(&rt).Error
		if err == nil {
			ti.PrevRefresh = rt.PrevTokenHash
		}
	}
	return &ti, nil
}

// GetRefreshToken loads a refresh token by hash.
func (s *Store) GetRefreshToken(ctx context.Context, hash string) (*models.RefreshToken, error) {
	var rt models.RefreshToken
	if err := s.q(ctx).Where("token_hash = ?", hash).Take(&rt).Error; err != nil {
		return nil, mapErr("load refresh token", err)
	}
	return &rt, nil
}

// RotateRefreshToken replaces the refresh token oldHash with next and its
// access token: the old pair stays valid until the new one is used (see
// RevokePredecessor). Using oldHash proves its own predecessor is dead, so
// that one is revoked now. A token that was already rotated and whose
// successor was used is gone: ErrNotFound.
func (s *Store) RotateRefreshToken(ctx context.Context, oldHash string, next *models.RefreshToken, access *models.AccessToken) error {
	return s.Transaction(ctx, func(tx *Store) error {
		old, err := tx.GetRefreshToken(ctx, oldHash)
		if err != nil {
			return err
		}
		if old.PrevTokenHash != "" {
			if err := tx.RevokePredecessor(ctx, old.TokenHash); err != nil {
				return err
			}
		}
		// A second refresh with the same old token replaces the first
		// successor instead of forking the session.
		if err := tx.revokeRefreshFamily(ctx, "prev_token_hash = ?", oldHash); err != nil {
			return err
		}
		if err := tx.q(ctx).Create(next).Error; err != nil {
			return mapErr("store refresh token", err)
		}
		return mapErr("store access token", tx.q(ctx).Create(access).Error)
	})
}

// RevokePredecessor deletes the refresh token that hash replaced, with its
// access tokens, and clears the link. Called when hash's session is first used.
func (s *Store) RevokePredecessor(ctx context.Context, hash string) error {
	rt, err := s.GetRefreshToken(ctx, hash)
	if err != nil {
		return err
	}
	if rt.PrevTokenHash == "" {
		return nil
	}
	if err := s.revokeRefreshFamily(ctx, "token_hash = ?", rt.PrevTokenHash); err != nil {
		return err
	}
	return mapErr("clear refresh predecessor", s.q(ctx).Model(&models.RefreshToken{}).
		Where("token_hash = ?", hash).Update("prev_token_hash", "").Error)
}

// revokeRefreshFamily deletes the refresh tokens matching where and the
// access tokens issued with them.
func (s *Store) revokeRefreshFamily(ctx context.Context, where string, arg string) error {
	var hashes []string
	if err := s.q(ctx).Model(&models.RefreshToken{}).Where(where, arg).Pluck("token_hash", &hashes).Error; err != nil {
		return mapErr("find refresh tokens", err)
	}
	if len(hashes) == 0 {
		return nil
	}
	if err := s.q(ctx).Where("refresh_token_hash IN ?", hashes).Delete(&models.AccessToken{}).Error; err != nil {
		return mapErr("revoke access tokens", err)
	}
	return mapErr("revoke refresh tokens", s.q(ctx).Where("token_hash IN ?", hashes).Delete(&models.RefreshToken{}).Error)
}

// CreateLoginToken stores a single-use login token.
func (s *Store) CreateLoginToken(ctx context.Context, lt *models.LoginToken) error {
	return mapErr("store login token", s.q(ctx).Create(lt).Error)
}

// ConsumeLoginToken deletes the login token and returns its user if it had
// not expired; a missing, used or expired token is ErrNotFound.
func (s *Store) ConsumeLoginToken(ctx context.Context, hash string, now time.Time) (string, error) {
	var lt models.LoginToken
	err := s.Transaction(ctx, func(tx *Store) error {
		if err := tx.q(ctx).Where("token_hash = ?", hash).Take(&lt).Error; err != nil {
			return mapErr("load login token", err)
		}
		res := tx.q(ctx).Where("token_hash = ?", hash).Delete(&models.LoginToken{})
		if res.Error != nil || res.RowsAffected == 0 {
			return fmt.Errorf("consume login token: %w", ErrNotFound)
		}
		// Expired tokens are swept along.
		return mapErr("sweep login tokens", tx.q(ctx).Where("expires_at < ?", now.UnixMilli()).Delete(&models.LoginToken{}).Error)
	})
	if err != nil {
		return "", err
	}
	if lt.ExpiresAt < now.UnixMilli() {
		return "", fmt.Errorf("login token expired: %w", ErrNotFound)
	}
	return lt.UserID, nil
}
