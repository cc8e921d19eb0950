package push

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Event is an event decoded once for evaluation against many users' rules.
type Event struct {
	v      map[string]any
	sender string
}

// ParseEvent decodes a client- or federation-format event.
func ParseEvent(raw []byte) (*Event, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v map[string]any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode event: %w", err)
	}
	s, _ := v["sender"].(string)
	return &Event{v: v, sender: s}, nil
}

// Sender is the event's sender.
func (e *Event) Sender() string { return e.sender }

// Lookup follows a dot-separated property path (appendices "Dot-separated
// property paths": `\.` is a literal dot, `\\` a literal backslash).
func (e *Event) Lookup(path string) (any, bool) {
	var cur any = e.v
	for _, part := range splitPath(path) {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func splitPath(path string) []string {
	var parts []string
	var b strings.Builder
	for i := 0; i < len(path); i++ {
		c := path[i]
		switch {
		case c == '\\' && i+1 < len(path) && (path[i+1] == '.' || path[i+1] == '\\'):
			b.WriteByte(path[i+1])
			i++
		case c == '.':
			parts = append(parts, b.String())
			b.Reset()
		default:
			b.WriteByte(c)
		}
	}
	return append(parts, b.String())
}

// Context is what the conditions need to know about the user and room.
type Context struct {
	UserID string
	// DisplayName is the user's display name in the room ("" if none).
	DisplayName string
	MemberCount int64
	// SenderPower is the sender's power level as the auth rules compute it
	// (a room creator's is above every level from room version 12:
	// math.MaxInt64, eventauth.CreatorLevel); NotificationLevel returns the
	// level needed for a notification key (power_levels.notifications).
	SenderPower       int64
	NotificationLevel func(key string) int64
}

// Evaluate returns the first matching enabled rule's actions (push.md
// "Push Rules": kinds in order, the first match wins) and the rule's ID,
// or "" when no rule matches.
func (e *Evaluator) Evaluate(rs *Ruleset, ev *Event, c Context) (string, Actions) {
	for _, kind := range Kinds {
		for _, r := range *rs.Kind(kind) {
			if r.Enabled && e.ruleMatches(kind, r, ev, c) {
				return r.RuleID, ParseActions(r.Actions)
			}
		}
	}
	return "", Actions{}
}

func (e *Evaluator) ruleMatches(kind string, r Rule, ev *Event, c Context) bool {
	switch kind {
	case KindContent:
		if r.Pattern == nil {
			return false
		}
		body, ok := ev.Lookup("content.body")
		s, isStr := body.(string)
		return ok && isStr && e.globWords(*r.Pattern, s)
	case KindRoom:
		room, _ := ev.v["room_id"].(string)
		return room == r.RuleID
	case KindSender:
		return ev.sender == r.RuleID
	}
	for _, cond := range r.Conditions {
		if !e.conditionHolds(cond, ev, c) {
			return false
		}
	}
	return true
}

func (e *Evaluator) conditionHolds(cond Condition, ev *Event, c Context) bool {
	switch cond.Kind {
	case "event_match":
		v, ok := ev.Lookup(cond.Key)
		s, isStr := v.(string)
		if !ok || !isStr || cond.Pattern == nil {
			return false
		}
		if cond.Key == "content.body" {
			return e.globWords(*cond.Pattern, s)
		}
		return e.globFull(*cond.Pattern, s)
	case "event_property_is":
		v, ok := ev.Lookup(cond.Key)
		return ok && scalarEqual(v, cond.Value)
	case "event_property_contains":
		v, ok := ev.Lookup(cond.Key)
		arr, isArr := v.([]any)
		if !ok || !isArr {
			return false
		}
		for _, x := range arr {
			if scalarEqual(x, cond.Value) {
				return true
			}
		}
		return false
	case "contains_display_name":
		body, _ := ev.Lookup("content.body")
		s, isStr := body.(string)
		return isStr && c.DisplayName != "" && e.globWords(escapeGlob(c.DisplayName), s)
	case "room_member_count":
		op, n, err := parseIs(cond.Is)
		return err == nil && compare(c.MemberCount, op, n)
	case "sender_notification_permission":
		need := int64(50)
		if c.NotificationLevel != nil {
			need = c.NotificationLevel(cond.Key)
		}
		return c.SenderPower >= need
	}
	return false // unknown conditions never match
}

// scalarEqual compares a decoded event value with a rule's raw JSON value:
// strings, integers, booleans and null only, no type casts.
func scalarEqual(v any, want json.RawMessage) bool {
	if !scalarJSON(want) {
		return false
	}
	switch x := v.(type) {
	case nil:
		return string(bytes.TrimSpace(want)) == "null"
	case bool:
		return string(bytes.TrimSpace(want)) == strconv.FormatBool(x)
	case string:
		var w string
		return json.Unmarshal(want, &w) == nil && w == x
	case json.Number:
		a, err1 := x.Int64()
		b, err2 := strconv.ParseInt(string(bytes.TrimSpace(want)), 10, 64)
		return err1 == nil && err2 == nil && a == b
	}
	return false
}

// parseIs parses room_member_count's "is": an integer with an optional
// ==, <, >, <= or >= prefix (default ==).
func parseIs(is string) (string, int64, error) {
	op := "=="
	for _, p := range []string{"==", "<=", ">=", "<", ">"} {
		if rest, ok := strings.CutPrefix(is, p); ok {
			op, is = p, rest
			break
		}
	}
	n, err := strconv.ParseInt(is, 10, 64)
	if err != nil || n < 0 {
		return "", 0, fmt.Errorf("room_member_count is %q: not a count", is)
	}
	return op, n, nil
}

func compare(have int64, op string, n int64) bool {
	switch op {
	case "<":
		return have < n
	case ">":
		return have > n
	case "<=":
		return have <= n
	case ">=":
		return have >= n
	}
	return have == n
}
