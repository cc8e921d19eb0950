package sync

import (
	"context"
	"encoding/json"

	"github.com/kabarchat/kabar/models"
)

// UnreadSource supplies unread_notifications (client-server-api
// "Receiving notifications"). Notifications are recorded by a worker that
// follows the event stream, so a sync first waits (briefly) until the
// worker has passed the events it is about to send; then the counts agree
// with the timeline.
type UnreadSource interface {
	WaitProcessed(ctx context.Context, pos int64)
	UnreadCounts(ctx context.Context, userID, roomID string) (notify, highlight int64, err error)
	// PushRulesEvent is the m.push_rules event for a user without stored
	// push rule account data.
	PushRulesEvent(ctx context.Context, userID string) (json.RawMessage, error)
}

// defaultPushRules adds m.push_rules to an initial sync's account data
// when the user has none stored (they never changed a rule).
func (b *builder) defaultPushRules(ctx context.Context, rows []models.AccountData, events []json.RawMessage) ([]json.RawMessage, error) {
	u := b.s.opts.Unread
	if u == nil || !b.initial || !b.req.Filter.accountDataFilter().Allows("m.push_rules", b.req.UserID) {
		return events, nil
	}
	for _, r := range rows {
		if r.RoomID == "" && r.Type == "m.push_rules" {
			return events, nil
		}
	}
	ev, err := u.PushRulesEvent(ctx, b.req.UserID)
	if err != nil {
		return nil, err
	}
	return append(events, ev), nil
}

// waitUnread lets the notification worker catch up to now.
func (b *builder) waitUnread(ctx context.Context) {
	if u := b.s.opts.Unread; u != nil {
		u.WaitProcessed(ctx, b.now[StreamEvents])
	}
}

// unread fills a joined room's unread_notifications.
func (b *builder) unread(ctx context.Context, roomID string, jr *JoinedRoom) error {
	u := b.s.opts.Unread
	if u == nil {
		return nil
	}
	n, h, err := u.UnreadCounts(ctx, b.req.UserID, roomID)
	if err != nil {
		return err
	}
	jr.UnreadNotifications = &UnreadCounts{NotificationCount: n, HighlightCount: h}
	return nil
}
