package notifications

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/eventauth"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/push"
)

const batchSize = 500

// catchUp evaluates every event committed since the last run.
func (s *Service) catchUp(ctx context.Context) error {
	for {
		from, to := s.Processed(), s.opts.Events.Current()
		if to <= from {
			return nil
		}
		rows, err := s.st.StreamEventsBetween(ctx, from, to, batchSize)
		if err != nil {
			return err
		}
		if len(rows) == batchSize {
			to = rows[len(rows)-1].StreamPos
		}
		notes, err := s.evaluate(ctx, rows)
		if err != nil {
			return err
		}
		if err := s.record(ctx, notes, to); err != nil {
			return err
		}
		s.advance(to)
		s.deliver.enqueue(s.forPushers(fresh(notes, time.Now())))
	}
}

// roomInfo is what the conditions need about a room, loaded once per batch.
type roomInfo struct {
	// joined is each joined member's join position: events before it are
	// not theirs.
	joined map[string]int64
	// power are the levels in force; version and create (nil if the
	// room is unknown here) are kept for reloading them (power.go).
	power   *eventauth.PowerLevels
	version *event.RoomVersion
	create  eventauth.Event
	// names are the joined members' display names, loaded on first use
	// (names.go).
	names map[string]string
	// current is the room's joined members as read at the start of a
	// batch with many membership events (roomcache.go prefetch), or nil.
	current map[string]int64
}

// evaluate runs each recipient's rules over the events: the room's joined
// local members except the sender, plus a local invitee (push.md
// "Push Rules": never notify users of their own events). Users with the
// server-default rules share one evaluation per event (recipients.go).
func (s *Service) evaluate(ctx context.Context, rows []models.Event) ([]models.Notification, error) {
	custom, err := s.customRules(ctx)
	if err != nil {
		return nil, err
	}
	done, err := s.prefetch(ctx, s.rooms, rows)
	if err != nil {
		return nil, err
	}
	defer done()
	var out []models.Notification
	for _, row := range rows {
		info, err := s.room(ctx, s.rooms, row)
		if err != nil {
			return nil, err
		}
		ev, err := push.ParseEvent([]byte(row.JSON))
		if err != nil {
			continue // stored events are valid JSON; skip rather than stall
		}
		e := s.newEventEval(row, ev, info, custom)
		if out, err = e.recipients(ctx, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// evaluateFor runs userID's own ruleset (a user with custom rules).
func (s *Service) evaluateFor(ctx context.Context, userID string, e *eventEval) (push.Actions, error) {
	rs, err := s.Rules(ctx, userID)
	if err != nil {
		return push.Actions{}, err
	}
	pc := e.pc
	pc.UserID = userID
	if usesDisplayName(rs) {
		pc.DisplayName = s.memberName(ctx, e.info, e.row.RoomID, userID)
	}
	_, act := s.eval.Evaluate(rs, e.ev, pc)
	return act, nil
}

// ruleActions rebuilds the actions array stored with a notification.
func ruleActions(a push.Actions) []any {
	out := []any{"notify"}
	for k, v := range a.Tweaks {
		out = append(out, map[string]any{"set_tweak": k, "value": v})
	}
	return out
}

func threadOf(ev *push.Event) string {
	if rel, _ := ev.Lookup(`content.m\.relates_to.rel_type`); rel == "m.thread" {
		if id, ok := ev.Lookup(`content.m\.relates_to.event_id`); ok {
			s, _ := id.(string)
			return s
		}
	}
	return ""
}

func usesDisplayName(rs *push.Ruleset) bool {
	for _, kind := range []string{push.KindOverride, push.KindUnderride} {
		for _, r := range *rs.Kind(kind) {
			for _, c := range r.Conditions {
				if c.Kind == "contains_display_name" && r.Enabled {
					return true
				}
			}
		}
	}
	return false
}

func (s *Service) local(userID string) bool {
	u, err := spec.ParseUserID(userID)
	return err == nil && u.Server() == s.opts.ServerName
}

func (s *Service) loadRoom(ctx context.Context, roomID string) (*roomInfo, error) {
	joined, err := s.st.JoinedMembersSince(ctx, roomID)
	if err != nil {
		return nil, err
	}
	info := &roomInfo{joined: joined}
	if err := s.loadPower(ctx, info, roomID); err != nil {
		return nil, fmt.Errorf("load power levels of %s: %w", roomID, err)
	}
	return info, nil
}

// displayName is the user's name in the room's membership event.
func (s *Service) displayName(ctx context.Context, roomID, userID string) string {
	cs, err := s.st.CurrentStateRow(ctx, roomID, "m.room.member", userID)
	if err != nil {
		return ""
	}
	row, err := s.st.EventByID(ctx, cs.EventID)
	if err != nil {
		return ""
	}
	var ev struct {
		Content struct {
			Displayname string `json:"displayname"`
		} `json:"content"`
	}
	json.Unmarshal([]byte(row.JSON), &ev)
	return strings.TrimSpace(ev.Content.Displayname)
}
