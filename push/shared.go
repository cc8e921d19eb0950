package push

import (
	"strings"
)

// Shared is the server-default ruleset evaluated once for an event on
// behalf of every user who has not changed it. Of the predefined rules
// (push.md "Predefined Rules") only two depend on who is asking:
// .m.rule.invite_for_me (an event_match of state_key against the user's ID,
// a case-insensitive glob) and .m.rule.is_user_mention (the user's ID in
// content.m.mentions.user_ids); contains_display_name is no longer a
// default condition, and room_member_count and
// sender_notification_permission are the same for every member of the
// room. So a user the event does not name gets the same result as any
// other such user, and only the named few need a rule run of their own
// (TestSharedMatchesPerUser holds this against Defaults).
type Shared struct {
	e  *Evaluator
	ev *Event
	c  Context

	stateKey    string
	hasStateKey bool
	mentioned   map[string]bool
	rule        string
	actions     Actions
	// foldMatters is set when a user whose ID matches state_key only
	// ignoring case (and who is not mentioned) gets a result other than
	// the generic one, so every member has to be checked with Named.
	foldMatters bool
}

// Shared evaluates the server defaults for ev once; c carries the room's
// member count and power levels (its UserID and DisplayName are unused).
func (e *Evaluator) Shared(ev *Event, c Context) *Shared {
	s := &Shared{e: e, ev: ev, c: c, mentioned: map[string]bool{}}
	s.stateKey, s.hasStateKey = ev.v["state_key"].(string)
	if ids, ok := ev.Lookup(`content.m\.mentions.user_ids`); ok {
		if arr, ok := ids.([]any); ok {
			for _, x := range arr {
				if id, ok := x.(string); ok {
					s.mentioned[id] = true
				}
			}
		}
	}
	probe := "\x00"
	for s.Named(probe) {
		probe += "\x00"
	}
	s.rule, s.actions = s.evaluate(probe, false)
	if s.hasStateKey {
		// A user matching state_key in some letter case who is not
		// mentioned: the invite rule holds for them, the mention rule not.
		rule, _ := s.evaluate(s.stateKey, true)
		s.foldMatters = rule != s.rule
	}
	return s
}

func (s *Shared) evaluate(userID string, noMention bool) (string, Actions) {
	rs := Defaults(userID)
	if noMention {
		rs.Find(KindOverride, ".m.rule.is_user_mention").Enabled = false
	}
	c := s.c
	c.UserID = userID
	return s.e.Evaluate(&rs, s.ev, c)
}

// Generic is the result for every user with default rules whom the event
// does not name.
func (s *Shared) Generic() (string, Actions) { return s.rule, s.actions }

// Named reports whether the event names userID in a way a default rule
// looks at: as state_key (in any letter case, as event_match globs are
// case-insensitive) or in content.m.mentions.user_ids.
func (s *Shared) Named(userID string) bool {
	return s.mentioned[userID] || (s.hasStateKey && strings.EqualFold(userID, s.stateKey))
}

// FoldMatters reports whether users named only through a different letter
// case of state_key get a non-generic result; when false, the users that
// can differ from Generic are just NamedExactly's.
func (s *Shared) FoldMatters() bool { return s.foldMatters }

// NamedExactly lists the IDs the event names verbatim: state_key and the
// mentioned users.
func (s *Shared) NamedExactly() []string {
	out := make([]string, 0, len(s.mentioned)+1)
	if s.hasStateKey {
		out = append(out, s.stateKey)
	}
	for id := range s.mentioned {
		out = append(out, id)
	}
	return out
}

// For is userID's result under the server defaults: Generic unless the
// event names them, else a rule run of their own.
func (s *Shared) For(userID string) (string, Actions) {
	if !s.Named(userID) {
		return s.rule, s.actions
	}
	return s.evaluate(userID, false)
}
