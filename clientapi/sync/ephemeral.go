package sync

import (
	"context"
	"encoding/json"
)

// ephemeralRooms lists the user's joined rooms whose ephemeral events
// (receipts, typing) changed since the token.
func (b *builder) ephemeralRooms(ctx context.Context) ([]string, error) {
	var receipts []string
	var err error
	if b.since[StreamReceipts] < b.now[StreamReceipts] {
		receipts, err = b.s.st.ReceiptRooms(ctx, b.req.UserID, b.since[StreamReceipts], b.now[StreamReceipts])
		if err != nil {
			return nil, err
		}
	}
	t := b.s.opts.Streams.Typing
	if t == nil {
		return receipts, nil
	}
	rooms := t.ChangedRooms(b.since[StreamTyping], func(roomID string) bool {
		m, e := b.s.st.CurrentMembership(ctx, roomID, b.req.UserID)
		if e != nil && err == nil {
			err = e
		}
		return m == "join"
	})
	return append(receipts, rooms...), err
}

// ephemeral returns the room's m.typing and m.receipt changed since the
// token (client-server-api "Typing Notifications", "Receipts").
func (b *builder) ephemeral(ctx context.Context, roomID string) ([]json.RawMessage, error) {
	var out []json.RawMessage
	ef := b.req.Filter.RoomPart().EphemeralFilter()
	if t := b.s.opts.Streams.Typing; t != nil && ef.AllowsEvent(roomID, "m.typing", "", false) {
		since := b.since[StreamTyping]
		if b.initial {
			since = -1
		}
		if users, ok := t.Since(roomID, since); ok {
			if users == nil {
				users = []string{}
			}
			ev, _ := json.Marshal(map[string]any{"type": "m.typing", "content": map[string]any{"user_ids": users}})
			out = append(out, ev)
		}
	}
	if ef.AllowsEvent(roomID, "m.receipt", "", false) {
		ev, err := b.receiptEvent(ctx, roomID)
		if err != nil {
			return nil, err
		}
		if ev != nil {
			out = append(out, ev)
		}
	}
	return out, nil
}
