package store

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/kabarchat/kabar/models"
)

func (s *Store) adminUsers(ctx context.Context) *gorm.DB {
	return s.q(ctx).Table("users").Joins("LEFT JOIN profiles ON profiles.user_id = users.user_id")
}

// ListUsers pages through local users ordered by user ID and reports how
// many match in all.
func (s *Store) ListUsers(ctx context.Context, uq models.UserQuery) ([]models.AdminUser, int64, error) {
	filter := func(q *gorm.DB) *gorm.DB {
		if uq.Name != "" {
			esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
			pat := "%" + esc.Replace(strings.ToLower(uq.Name)) + "%"
			q = q.Where(`(LOWER(users.user_id) LIKE ? ESCAPE '\' OR LOWER(profiles.display_name) LIKE ? ESCAPE '\')`, pat, pat)
		}
		if !uq.Guests {
			q = q.Where("NOT users.is_guest")
		}
		if !uq.Deactivated {
			q = q.Where("NOT users.deactivated")
		}
		return q
	}
	var total int64
	if err := filter(s.adminUsers(ctx)).Count(&total).Error; err != nil {
		return nil, 0, mapErr("count users", err)
	}
	var out []models.AdminUser
	err := filter(s.adminUsers(ctx)).Select("users.*, profiles.display_name, profiles.avatar_url").
		Order("users.user_id").Offset(uq.From).Limit(uq.Limit).Scan(&out).Error
	if err != nil {
		return nil, 0, mapErr("list users", err)
	}
	return out, total, nil
}

// GetAdminUser loads one user with its profile.
func (s *Store) GetAdminUser(ctx context.Context, userID string) (*models.AdminUser, error) {
	var out []models.AdminUser
	if err := s.adminUsers(ctx).Select("users.*, profiles.display_name, profiles.avatar_url").Where("users.user_id = ?", userID).Limit(1).Scan(&out).Error; err != nil {
		return nil, mapErr("load user "+userID, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("load user %s: %w", userID, ErrNotFound)
	}
	return &out[0], nil
}

// SetUserAdmin grants or revokes server admin rights.
func (s *Store) SetUserAdmin(ctx context.Context, userID string, admin bool) error {
	res := s.q(ctx).Model(&models.User{}).Where("user_id = ?", userID).Update("is_admin", admin)
	if res.Error != nil {
		return mapErr("set admin flag of "+userID, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("set admin flag of %s: %w", userID, ErrNotFound)
	}
	return nil
}

// ListRooms pages through every room the server knows, ordered by room ID,
// and reports the total.
func (s *Store) ListRooms(ctx context.Context, from, limit int) ([]models.Room, int64, error) {
	var total int64
	if err := s.q(ctx).Model(&models.Room{}).Count(&total).Error; err != nil {
		return nil, 0, mapErr("count rooms", err)
	}
	var rooms []models.Room
	q := s.q(ctx).Order("room_id").Offset(from)
	if limit >= 0 {
		q = q.Limit(limit)
	}
	if err := q.Find(&rooms).Error; err != nil {
		return nil, 0, mapErr("list rooms", err)
	}
	return rooms, total, nil
}
