package authn

import (
	"context"
	"fmt"
)

// SetAdmin grants or revokes server admin rights; cached sessions of the
// user are dropped so the change applies to their next request.
func (s *Service) SetAdmin(ctx context.Context, userID string, admin bool) error {
	defer s.cache.invalidateUser(userID)
	if err := s.store.SetUserAdmin(ctx, userID, admin); err != nil {
		return fmt.Errorf("set admin of %s: %w", userID, err)
	}
	s.log.Info("admin flag changed", "user_id", userID, "admin", admin)
	return nil
}
