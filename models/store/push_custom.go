package store

import (
	"context"

	"github.com/kabarchat/kabar/models"
)

// UsersWithPushRules lists the users with a push rule of their own or a
// change to a server-default rule; every other user has exactly the
// server defaults (the push worker evaluates those once per event).
func (s *Store) UsersWithPushRules(ctx context.Context) ([]string, error) {
	var own, changed []string
	if err := s.q(ctx).Model(&models.PushRule{}).Distinct("user_id").Pluck("user_id", &own).Error; err != nil {
		return nil, mapErr("list users with push rules", err)
	}
	err := s.q(ctx).Model(&models.PushRuleDefault{}).Distinct("user_id").Pluck("user_id", &changed).Error
	return append(own, changed...), mapErr("list users with default push rule changes", err)
}
