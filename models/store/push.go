package store

import (
	"context"
	"fmt"
	"slices"

	"gorm.io/gorm/clause"

	"github.com/kabarchat/kabar/models"
)

// PushRules loads a user's own rules (ordered by kind position) and their
// changes to the server-default rules.
func (s *Store) PushRules(ctx context.Context, userID string) ([]models.PushRule, []models.PushRuleDefault, error) {
	var rules []models.PushRule
	if err := s.q(ctx).Where("user_id = ?", userID).Order("position").Find(&rules).Error; err != nil {
		return nil, nil, mapErr("load push rules of "+userID, err)
	}
	var defs []models.PushRuleDefault
	err := s.q(ctx).Where("user_id = ?", userID).Find(&defs).Error
	return rules, defs, mapErr("load default push rule changes of "+userID, err)
}

// PutPushRule creates or replaces a user rule, placed before or after
// another user rule of the same kind when asked (ErrNotFound when that one
// does not exist), else at the end for a new rule or in place for an
// existing one. Positions of the kind are renumbered in one transaction.
func (s *Store) PutPushRule(ctx context.Context, r models.PushRule, before, after string) error {
	return s.Transaction(ctx, func(tx *Store) error {
		var rules []models.PushRule
		if err := tx.q(ctx).Where("user_id = ? AND kind = ?", r.UserID, r.Kind).Order("position").Find(&rules).Error; err != nil {
			return mapErr("load push rules", err)
		}
		at := slices.IndexFunc(rules, func(x models.PushRule) bool { return x.RuleID == r.RuleID })
		if at >= 0 {
			rules = slices.Delete(rules, at, at+1)
		} else {
			at = len(rules)
		}
		for _, ref := range []struct {
			id    string
			after int
		}{{before, 0}, {after, 1}} {
			if ref.id == "" {
				continue
			}
			i := slices.IndexFunc(rules, func(x models.PushRule) bool { return x.RuleID == ref.id })
			if i < 0 {
				return fmt.Errorf("push rule %s/%s: %w", r.Kind, ref.id, ErrNotFound)
			}
			at = i + ref.after
		}
		rules = slices.Insert(rules, at, r)
		if err := tx.q(ctx).Where("user_id = ? AND kind = ?", r.UserID, r.Kind).Delete(&models.PushRule{}).Error; err != nil {
			return mapErr("clear push rules", err)
		}
		for i := range rules {
			rules[i].Position = int64(i)
		}
		return mapErr("store push rules", tx.q(ctx).Create(&rules).Error)
	})
}

// DeletePushRule removes a user rule; ErrNotFound if there is none.
func (s *Store) DeletePushRule(ctx context.Context, userID, kind, ruleID string) error {
	res := s.q(ctx).Where("user_id = ? AND kind = ? AND rule_id = ?", userID, kind, ruleID).Delete(&models.PushRule{})
	if res.Error == nil && res.RowsAffected == 0 {
		return fmt.Errorf("push rule %s/%s: %w", kind, ruleID, ErrNotFound)
	}
	return mapErr("delete push rule", res.Error)
}

// UpdatePushRule sets a user rule's enabled flag and/or actions (nil
// leaves a field); ErrNotFound if there is no such rule.
func (s *Store) UpdatePushRule(ctx context.Context, userID, kind, ruleID string, enabled *bool, actions *string) error {
	set := map[string]any{}
	if enabled != nil {
		set["enabled"] = *enabled
	}
	if actions != nil {
		set["actions"] = *actions
	}
	res := s.q(ctx).Model(&models.PushRule{}).Where("user_id = ? AND kind = ? AND rule_id = ?", userID, kind, ruleID).Updates(set)
	if res.Error == nil && res.RowsAffected == 0 {
		return fmt.Errorf("push rule %s/%s: %w", kind, ruleID, ErrNotFound)
	}
	return mapErr("update push rule", res.Error)
}

// UpdateDefaultPushRule records a change to a server-default rule.
func (s *Store) UpdateDefaultPushRule(ctx context.Context, userID, kind, ruleID string, enabled *bool, actions *string) error {
	return s.Transaction(ctx, func(tx *Store) error {
		row := models.PushRuleDefault{UserID: userID, Kind: kind, RuleID: ruleID}
		err := tx.q(ctx).Where(&row).Limit(1).Find(&row).Error
		if err != nil {
			return mapErr("load default push rule change", err)
		}
		if enabled != nil {
			row.Enabled = enabled
		}
		if actions != nil {
			row.Actions = actions
		}
		return mapErr("store default push rule change", tx.q(ctx).Clauses(clause.OnConflict{UpdateAll: true}).Create(&row).Error)
	})
}
