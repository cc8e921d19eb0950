package notifications

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/push"
)

// Rules returns the user's effective global ruleset: the server defaults
// with the user's changes, and the user's own rules placed as push.md
// "Predefined Rules" orders them (user rules before server defaults of the
// same kind, except .m.rule.master, which always comes first).
func (s *Service) Rules(ctx context.Context, userID string) (*push.Ruleset, error) {
	s.mu.Lock()
	rs, ok := s.rules[userID]
	s.mu.Unlock()
	if ok {
		return rs, nil
	}
	rows, defs, err := s.st.PushRules(ctx, userID)
	if err != nil {
		return nil, err
	}
	rs = assemble(userID, rows, defs)
	s.mu.Lock()
	if len(s.rules) >= maxCachedRulesets {
		clear(s.rules)
	}
	s.rules[userID] = rs
	s.mu.Unlock()
	return rs, nil
}

const maxCachedRulesets = 50000

func assemble(userID string, rows []models.PushRule, defs []models.PushRuleDefault) *push.Ruleset {
	rs := push.Defaults(userID)
	for _, d := range defs {
		if r := rs.Find(d.Kind, d.RuleID); r != nil {
			if d.Enabled != nil {
				r.Enabled = *d.Enabled
			}
			if d.Actions != nil {
				json.Unmarshal([]byte(*d.Actions), &r.Actions) // written by us
			}
		}
	}
	own := map[string][]push.Rule{}
	for _, row := range rows {
		r := push.Rule{RuleID: row.RuleID, Enabled: row.Enabled, Pattern: row.Pattern}
		json.Unmarshal([]byte(row.Conditions), &r.Conditions) // written by us
		json.Unmarshal([]byte(row.Actions), &r.Actions)
		if r.Actions == nil {
			r.Actions = []json.RawMessage{}
		}
		own[row.Kind] = append(own[row.Kind], r)
	}
	for _, kind := range push.Kinds {
		list := rs.Kind(kind)
		if kind == push.KindOverride {
			*list = append(append((*list)[:1:1], own[kind]...), (*list)[1:]...)
			continue
		}
		*list = append(own[kind], *list...)
		if *list == nil {
			*list = []push.Rule{}
		}
	}
	return &rs
}

// forget drops the cached ruleset after a change and republishes the
// m.push_rules account data, so clients see the change in /sync
// (push.md "Push Rules: Events").
func (s *Service) changed(ctx context.Context, userID string) error {
	s.mu.Lock()
	delete(s.rules, userID)
	s.markCustom(userID)
	s.mu.Unlock()
	rs, err := s.Rules(ctx, userID)
	if err != nil {
		return err
	}
	if s.opts.AccountData == nil {
		return nil
	}
	body, err := json.Marshal(map[string]any{"global": rs})
	if err != nil {
		return fmt.Errorf("encode push rules: %w", err)
	}
	return s.opts.AccountData(ctx, userID, "m.push_rules", string(body))
}

// RuleInput is the body of PUT /pushrules/global/{kind}/{ruleId}.
type RuleInput struct {
	Actions    []json.RawMessage `json:"actions"`
	Conditions []push.Condition  `json:"conditions"`
	Pattern    *string           `json:"pattern"`
}

// PutRule creates or replaces a user rule (pushrules.yaml): 400 for a
// server-default rule ID, bad actions or conditions, a content rule
// without pattern; 404 when before/after names no user rule.
func (s *Service) PutRule(ctx context.Context, userID, kind, ruleID string, in RuleInput, before, after string) error {
	if err := validateRule(kind, ruleID, in); err != nil {
		return err
	}
	conds, _ := json.Marshal(in.Conditions)
	if in.Conditions == nil {
		conds = []byte("[]")
	}
	actions, _ := json.Marshal(in.Actions)
	row := models.PushRule{UserID: userID, Kind: kind, RuleID: ruleID, Enabled: true, Conditions: string(conds), Pattern: in.Pattern, Actions: string(actions)}
	if kind != push.KindContent {
		row.Pattern = nil
	}
	if existing, err := s.Rules(ctx, userID); err == nil {
		if r := existing.Find(kind, ruleID); r != nil {
			row.Enabled = r.Enabled // replacing keeps the enabled flag
		}
	}
	err := s.st.PutPushRule(ctx, row, before, after)
	if errors.Is(err, store.ErrNotFound) {
		return spec.NotFound("before/after names no rule of yours")
	}
	if err != nil {
		return err
	}
	return s.changed(ctx, userID)
}

func validateRule(kind, ruleID string, in RuleInput) error {
	if strings.HasPrefix(ruleID, ".") {
		return spec.InvalidParam("rule IDs starting with '.' are reserved for server-default rules")
	}
	if strings.Contains(ruleID, "/") || strings.Contains(ruleID, "\\") {
		return spec.InvalidParam("rule_id may not contain slashes or backslashes")
	}
	if in.Actions == nil {
		return spec.BadJSON("actions is required")
	}
	if err := push.ValidateActions(in.Actions); err != nil {
		return spec.BadJSON("%v", err)
	}
	switch kind {
	case push.KindContent:
		if in.Pattern == nil {
			return spec.BadJSON("content rules need a pattern")
		}
	case push.KindOverride, push.KindUnderride:
		if err := push.ValidateConditions(in.Conditions); err != nil {
			return spec.BadJSON("%v", err)
		}
	case push.KindRoom:
		if _, err := spec.ParseRoomID(ruleID); err != nil {
			return spec.InvalidParam("room rule IDs are room IDs")
		}
	case push.KindSender:
		if _, err := spec.ParseUserID(ruleID); err != nil {
			return spec.InvalidParam("sender rule IDs are user IDs")
		}
	}
	return nil
}

// DeleteRule removes a user rule; server-default rules cannot be deleted.
func (s *Service) DeleteRule(ctx context.Context, userID, kind, ruleID string) error {
	if strings.HasPrefix(ruleID, ".") {
		return spec.InvalidParam("server-default rules cannot be deleted")
	}
	err := s.st.DeletePushRule(ctx, userID, kind, ruleID)
	if errors.Is(err, store.ErrNotFound) {
		return spec.NotFound("no such push rule")
	}
	if err != nil {
		return err
	}
	return s.changed(ctx, userID)
}

// UpdateRule sets a rule's enabled flag or actions (nil leaves it), for
// user and server-default rules alike; 404 for an unknown rule.
func (s *Service) UpdateRule(ctx context.Context, userID, kind, ruleID string, enabled *bool, actions []json.RawMessage) error {
	rs, err := s.Rules(ctx, userID)
	if err != nil {
		return err
	}
	r := rs.Find(kind, ruleID)
	if r == nil {
		return spec.NotFound("no such push rule")
	}
	var act *string
	if actions != nil {
		if err := push.ValidateActions(actions); err != nil {
			return spec.BadJSON("%v", err)
		}
		b, _ := json.Marshal(actions)
		act = new(string)
		*act = string(b)
	}
	if r.Default {
		err = s.st.UpdateDefaultPushRule(ctx, userID, kind, ruleID, enabled, act)
	} else {
		err = s.st.UpdatePushRule(ctx, userID, kind, ruleID, enabled, act)
	}
	if err != nil {
		return err
	}
	return s.changed(ctx, userID)
}
