package sync

import (
	"context"
	"encoding/json"
)

// UnreadSource supplies unread_notifications (client-server-api
// "Receiving notifications"). Notifications are recorded by a worker that
// follows the event stream, so a sync first waits (briefly) until the
// worker has passed the events it is about to send; then the counts agree
// with the timeline.
type UnreadSource interface {
	WaitProcessed(ctx context.Context, pos int64)
	UnreadCounts(ctx context.Context, userID, roomID string) (notify, highlight int64, err error)
	// ThreadedUnreadCounts splits the counts into the main timeline and
	// each thread, for filters with unread_thread_notifications.
	ThreadedUnreadCounts(ctx context.Context, userID, roomID string) (UnreadCounts, map[string]UnreadCounts, error)
	// NotifiedRooms lists the rooms with any notification for the user.
	NotifiedRooms(ctx context.Context, userID string) ([]string, error)
	// PushRulesEvent is the m.push_rules event for a user without stored
	// push rule account data.
	PushRulesEvent(ctx context.Context, userID string) (json.RawMessage, error)
}

// defaultPushRules adds m.push_rules to an initial sync's account data
// when the user has none stored (they never changed a rule); a stored one
// is already in the initial range.
func (b *builder) defaultPushRules(ctx context.Context) error {
	u := b.s.opts.Unread
	if u == nil || !b.initial || !b.req.Filter.accountDataFilter().Allows("m.push_rules", b.req.UserID) {
		return nil
	}
	if b.resp.AccountData != nil {
		for _, ev := range b.resp.AccountData.Events {
			var head struct {
				Type string `json:"type"`
			}
			if json.Unmarshal(ev, &head) == nil && head.Type == "m.push_rules" {
				return nil
			}
		}
	} else {
		b.resp.AccountData = &RawEvents{}
	}
	ev, err := u.PushRulesEvent(ctx, b.req.UserID)
	if err != nil {
		return err
	}
	b.resp.AccountData.Events = append(b.resp.AccountData.Events, ev)
	return nil
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
	if done, err := b.unreadFromAll(ctx, roomID, jr); done || err != nil {
		return err
	}
	if b.initial || b.req.FullState {
		// One query tells which of the user's (possibly many) rooms can
		// have counts at all; the others are zero without a query.
		if b.notified == nil {
			if err := b.loadNotified(ctx); err != nil {
				return err
			}
		}
		if !b.notified[roomID] {
			jr.UnreadNotifications = &UnreadCounts{}
			return nil
		}
	}
	if b.req.Filter.RoomPart().TimelineFilter().UnreadThreadNotifications {
		main, threads, err := u.ThreadedUnreadCounts(ctx, b.req.UserID, roomID)
		if err != nil {
			return err
		}
		jr.UnreadNotifications = &main
		if len(threads) > 0 {
			jr.UnreadThreadNotifications = threads
		}
		return nil
	}
	c, err := b.unreadCounts(ctx, roomID)
	if err != nil {
		return err
	}
	jr.UnreadNotifications = &c
	return nil
}
