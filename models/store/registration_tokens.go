package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/kabarchat/kabar/models"
)

// usableToken is the condition under which a registration token may still
// be used: uses left (counting registrations in progress) and not expired.
const usableToken = "(uses_allowed IS NULL OR pending + completed < uses_allowed) AND (expiry_time IS NULL OR expiry_time > ?)"

// CreateRegistrationToken stores a new token; a taken token is ErrConflict.
func (s *Store) CreateRegistrationToken(ctx context.Context, t *models.RegistrationToken) error {
	return mapErr("create registration token", s.q(ctx).Create(t).Error)
}

// GetRegistrationToken loads one token.
func (s *Store) GetRegistrationToken(ctx context.Context, token string) (*models.RegistrationToken, error) {
	var t models.RegistrationToken
	if err := s.q(ctx).Where("token = ?", token).Take(&t).Error; err != nil {
		return nil, mapErr("load registration token", err)
	}
	return &t, nil
}

// ListRegistrationTokens lists tokens ordered by token; valid filters on
// usability at nowMs when not nil.
func (s *Store) ListRegistrationTokens(ctx context.Context, valid *bool, nowMs int64) ([]models.RegistrationToken, error) {
	q := s.q(ctx).Order("token")
	if valid != nil && *valid {
		q = q.Where(usableToken, nowMs)
	} else if valid != nil {
		q = q.Where("NOT ("+usableToken+")", nowMs)
	}
	var out []models.RegistrationToken
	if err := q.Find(&out).Error; err != nil {
		return nil, mapErr("list registration tokens", err)
	}
	return out, nil
}

// UpdateRegistrationToken sets columns ("uses_allowed", "expiry_time"; a nil
// value clears one) and returns the updated token.
func (s *Store) UpdateRegistrationToken(ctx context.Context, token string, set map[string]any) (*models.RegistrationToken, error) {
	var out *models.RegistrationToken
	err := s.Transaction(ctx, func(tx *Store) error {
		if len(set) > 0 {
			res := tx.q(ctx).Model(&models.RegistrationToken{}).Where("token = ?", token).Updates(set)
			if res.Error != nil {
				return mapErr("update registration token", res.Error)
			}
		}
		var err error
		out, err = tx.GetRegistrationToken(ctx, token)
		return err
	})
	return out, err
}

// DeleteRegistrationToken removes a token; ErrNotFound if there is none.
func (s *Store) DeleteRegistrationToken(ctx context.Context, token string) error {
	res := s.q(ctx).Where("token = ?", token).Delete(&models.RegistrationToken{})
	if res.Error != nil {
		return mapErr("delete registration token", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("delete registration token: %w", ErrNotFound)
	}
	return nil
}

// RegistrationTokenUsable reports whether the token exists and may be used
// at nowMs.
func (s *Store) RegistrationTokenUsable(ctx context.Context, token string, nowMs int64) (bool, error) {
	var n int64
	err := s.q(ctx).Model(&models.RegistrationToken{}).Where("token = ?", token).Where(usableToken, nowMs).Count(&n).Error
	if err != nil {
		return false, mapErr("check registration token", err)
	}
	return n > 0, nil
}

// ClaimRegistrationToken takes one use of the token for a registration in
// progress (pending + 1), atomically with the usability check, so two
// concurrent registrations cannot both take the last use. ErrNotFound when
// the token is unknown, used up or expired.
func (s *Store) ClaimRegistrationToken(ctx context.Context, token string, nowMs int64) error {
	res := s.q(ctx).Model(&models.RegistrationToken{}).Where("token = ?", token).Where(usableToken, nowMs).
		Update("pending", gorm.Expr("pending + 1"))
	if res.Error != nil {
		return mapErr("claim registration token", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("claim registration token: %w", ErrNotFound)
	}
	return nil
}

// FinishRegistrationToken ends a claim: the use becomes completed when the
// account was created, and is given back otherwise.
func (s *Store) FinishRegistrationToken(ctx context.Context, token string, completed bool) error {
	set := map[string]any{"pending": gorm.Expr("pending - 1")}
	if completed {
		set["completed"] = gorm.Expr("completed + 1")
	}
	err := s.q(ctx).Model(&models.RegistrationToken{}).Where("token = ? AND pending > 0", token).Updates(set).Error
	return mapErr("finish registration token", err)
}
