package notifications

import (
	"context"
	"encoding/json"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/push"
)

// eventEval is one event being evaluated for the members of its room.
// What does not depend on the user is worked out once: the room's part of
// the condition context, the thread, and the server-default rules' result
// for every user the event does not name (push.Shared), with its stored
// actions JSON.
type eventEval struct {
	s    *Service
	row  models.Event
	ev   *push.Event
	info *roomInfo
	// custom are the users whose rules are not the defaults: each runs
	// their own.
	custom  map[string]bool
	pc      push.Context
	invitee string
	thread  string
	// shared is nil when the Service evaluates everyone on their own
	// (Service.perUser, the reference the tests compare against).
	shared      *push.Shared
	generic     push.Actions
	genericJSON string
}

func (s *Service) newEventEval(row models.Event, ev *push.Event, info *roomInfo, custom map[string]bool) *eventEval {
	e := &eventEval{
		s: s, row: row, ev: ev, info: info, custom: custom, thread: threadOf(ev),
		pc: push.Context{
			MemberCount: int64(len(info.joined)),
			SenderPower: info.power.UserLevel(row.Sender), NotificationLevel: info.power.NotificationLevel,
		},
	}
	if row.Type == "m.room.member" && row.Membership == "invite" && row.StateKey != nil {
		e.invitee = *row.StateKey // even if joined since: the invite is theirs
	}
	if !s.perUser {
		e.shared = s.eval.Shared(ev, e.pc)
		_, e.generic = e.shared.Generic()
		e.genericJSON = actionsJSON(e.generic)
	}
	return e
}

// recipients appends the event's notifications: for each joined member
// who had joined by the event, and for the invitee of an invite.
func (e *eventEval) recipients(ctx context.Context, out []models.Notification) ([]models.Notification, error) {
	err := e.eachCandidate(func(u string, since int64) error {
		if u == e.invitee || since > e.row.StreamPos {
			return nil
		}
		var err error
		out, err = e.notifyIfMatch(ctx, out, u)
		return err
	})
	if err != nil {
		return nil, err
	}
	if e.invitee != "" {
		return e.notifyIfMatch(ctx, out, e.invitee)
	}
	return out, nil
}

// eachCandidate visits the joined members whose rules may notify them of
// the event. When the server defaults notify nobody the event does not
// name (a membership change: .m.rule.member_event; a reaction, an edit, a
// notice), that is only the members with custom rules and those the event
// names, so a join into a room of N members costs O(1), not O(N);
// otherwise it is every member.
func (e *eventEval) eachCandidate(visit func(u string, since int64) error) error {
	if e.shared == nil || e.generic.Notify {
		for u, since := range e.info.joined {
			if err := visit(u, since); err != nil {
				return err
			}
		}
		return nil
	}
	seen := map[string]bool{}
	once := func(u string) error {
		since, joined := e.info.joined[u]
		if !joined || seen[u] {
			return nil
		}
		seen[u] = true
		return visit(u, since)
	}
	var all []string
	if len(e.custom) < len(e.info.joined) {
		for u := range e.custom {
			all = append(all, u)
		}
	} else {
		for u := range e.info.joined {
			if e.custom[u] {
				all = append(all, u)
			}
		}
	}
	if e.shared.FoldMatters() { // an invite: state_key matches in any case
		for u := range e.info.joined {
			if e.shared.Named(u) {
				all = append(all, u)
			}
		}
	} else {
		all = append(all, e.shared.NamedExactly()...)
	}
	for _, u := range all {
		if err := once(u); err != nil {
			return err
		}
	}
	return nil
}

// notifyIfMatch appends the notification of u when u is a local user
// other than the sender and u's rules say to notify.
func (e *eventEval) notifyIfMatch(ctx context.Context, out []models.Notification, u string) ([]models.Notification, error) {
	if u == e.row.Sender || !e.s.local(u) {
		return out, nil
	}
	var act push.Actions
	actions := ""
	switch {
	case e.shared == nil || e.custom[u]:
		var err error
		if act, err = e.s.evaluateFor(ctx, u, e); err != nil {
			return nil, err
		}
	case e.shared.Named(u):
		_, act = e.shared.For(u)
	default:
		act, actions = e.generic, e.genericJSON
	}
	if !act.Notify {
		return out, nil
	}
	if actions == "" {
		actions = actionsJSON(act)
	}
	return append(out, models.Notification{
		UserID: u, RoomID: e.row.RoomID, StreamPos: e.row.StreamPos, EventID: e.row.EventID,
		ThreadID: e.thread, Highlight: act.Highlight, Actions: actions, TS: e.row.OriginServerTS,
	}), nil
}

// actionsJSON is the actions array stored with a notification.
func actionsJSON(a push.Actions) string {
	b, _ := json.Marshal(ruleActions(a))
	return string(b)
}
