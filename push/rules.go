// Package push implements push rules (client-server-api "Push
// Notifications"): the rule and condition types, the server-default rules,
// and the evaluator that turns an event into the actions for one user. It is
// pure logic over JSON; storage and delivery live elsewhere.
package push

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Kinds of rules, in the order they are checked (push.md "Push Rules").
const (
	KindOverride  = "override"
	KindContent   = "content"
	KindRoom      = "room"
	KindSender    = "sender"
	KindUnderride = "underride"
)

// Kinds lists every kind in evaluation order.
var Kinds = []string{KindOverride, KindContent, KindRoom, KindSender, KindUnderride}

// ValidKind reports whether k is a push rule kind.
func ValidKind(k string) bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// Condition is a push condition (push.md "Conditions"). Value keeps the raw
// JSON so null, booleans and numbers compare exactly.
type Condition struct {
	Kind    string          `json:"kind"`
	Key     string          `json:"key,omitempty"`
	Pattern *string         `json:"pattern,omitempty"`
	Value   json.RawMessage `json:"value,omitempty"`
	Is      string          `json:"is,omitempty"`
}

// Rule is a PushRule: rule_id, default, enabled, actions and, by kind,
// conditions or pattern.
type Rule struct {
	RuleID     string            `json:"rule_id"`
	Default    bool              `json:"default"`
	Enabled    bool              `json:"enabled"`
	Conditions []Condition       `json:"conditions,omitempty"`
	Pattern    *string           `json:"pattern,omitempty"`
	Actions    []json.RawMessage `json:"actions"`
}

// Ruleset is the global ruleset by kind (pushrules.yaml Ruleset).
type Ruleset struct {
	Override  []Rule `json:"override"`
	Content   []Rule `json:"content"`
	Room      []Rule `json:"room"`
	Sender    []Rule `json:"sender"`
	Underride []Rule `json:"underride"`
}

// Kind returns the rules of one kind.
func (r *Ruleset) Kind(kind string) *[]Rule {
	switch kind {
	case KindOverride:
		return &r.Override
	case KindContent:
		return &r.Content
	case KindRoom:
		return &r.Room
	case KindSender:
		return &r.Sender
	case KindUnderride:
		return &r.Underride
	}
	return nil
}

// Find returns the rule of kind with ruleID, or nil.
func (r *Ruleset) Find(kind, ruleID string) *Rule {
	rules := r.Kind(kind)
	if rules == nil {
		return nil
	}
	for i := range *rules {
		if (*rules)[i].RuleID == ruleID {
			return &(*rules)[i]
		}
	}
	return nil
}

// Actions is what a matched rule asks for.
type Actions struct {
	Notify    bool
	Highlight bool
	// Tweaks are the set_tweak entries, highlight included when set.
	Tweaks map[string]any
}

// ParseActions interprets an actions array. Unknown string actions and the
// historical dont_notify/coalesce are ignored (push.md "Historical
// Actions").
func ParseActions(raw []json.RawMessage) Actions {
	var a Actions
	for _, r := range raw {
		var s string
		if json.Unmarshal(r, &s) == nil {
			a.Notify = a.Notify || s == "notify"
			continue
		}
		var tw struct {
			SetTweak string           `json:"set_tweak"`
			Value    *json.RawMessage `json:"value"`
		}
		if json.Unmarshal(r, &tw) != nil || tw.SetTweak == "" {
			continue
		}
		var v any = true
		if tw.Value != nil {
			json.Unmarshal(*tw.Value, &v)
		}
		if a.Tweaks == nil {
			a.Tweaks = map[string]any{}
		}
		a.Tweaks[tw.SetTweak] = v
		if tw.SetTweak == "highlight" {
			b, isBool := v.(bool)
			a.Highlight = isBool && b
		}
	}
	return a
}

// ValidateActions checks a client-supplied actions array: each entry is a
// string or an object with a string set_tweak.
func ValidateActions(raw []json.RawMessage) error {
	for _, r := range raw {
		var s string
		if json.Unmarshal(r, &s) == nil {
			continue
		}
		var tw map[string]json.RawMessage
		if json.Unmarshal(r, &tw) != nil {
			return fmt.Errorf("action %s is neither a string nor an object", r)
		}
		var name string
		if json.Unmarshal(tw["set_tweak"], &name) != nil || name == "" {
			return fmt.Errorf("action object needs a string set_tweak")
		}
	}
	return nil
}

// ValidateConditions checks the conditions of a new override or underride
// rule: known kinds carry the parameters they need. Unknown kinds are
// allowed and never match (push.md "Conditions").
func ValidateConditions(conds []Condition) error {
	for _, c := range conds {
		switch c.Kind {
		case "":
			return fmt.Errorf("condition without kind")
		case "event_match":
			if c.Key == "" || c.Pattern == nil {
				return fmt.Errorf("event_match needs key and pattern")
			}
		case "event_property_is", "event_property_contains":
			if c.Key == "" || len(c.Value) == 0 || !scalarJSON(c.Value) {
				return fmt.Errorf("%s needs key and a non-compound value", c.Kind)
			}
		case "room_member_count":
			if _, _, err := parseIs(c.Is); err != nil {
				return err
			}
		case "sender_notification_permission":
			if c.Key == "" {
				return fmt.Errorf("sender_notification_permission needs key")
			}
		}
	}
	return nil
}

func scalarJSON(v json.RawMessage) bool {
	s := strings.TrimSpace(string(v))
	return s != "" && s[0] != '{' && s[0] != '['
}
