package sync

import (
	"context"
	"encoding/json"
	"time"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
)

// PutReceipt stores a receipt at the next receipts position and wakes who
// sees it: the room's joined members, or only the user for m.read.private
// (client-server-api "Private read receipts").
func (s *Syncer) PutReceipt(ctx context.Context, r models.Receipt) error {
	a := s.opts.Streams.Receipts
	res := a.Reserve(1)
	r.StreamPos, r.TS = res.First, time.Now().UnixMilli()
	err := s.st.PutReceipt(ctx, r)
	res.Done()
	if err != nil {
		return err
	}
	if err := WaitFor(context.WithoutCancel(ctx), a, res.First); err != nil {
		return err
	}
	return s.wakeRoom(ctx, r.RoomID, r.UserID, r.Type == "m.read.private")
}

// SetTyping records a typing notification; the tracker wakes the room.
func (s *Syncer) SetTyping(roomID, userID string, timeout time.Duration) {
	s.opts.Streams.Typing.Set(roomID, userID, timeout)
}

func (s *Syncer) wakeRoom(ctx context.Context, roomID, userID string, onlyUser bool) error {
	if onlyUser {
		s.opts.Notifier.Wake(userID)
		return nil
	}
	members, err := s.opts.Rooms.Members(ctx, spec.RoomID(roomID), "join")
	if err != nil {
		return err
	}
	s.opts.Notifier.Wake(members...)
	return nil
}

// receiptEvent builds the room's m.receipt event from the changed
// receipts, leaving out other users' private receipts.
func (b *builder) receiptEvent(ctx context.Context, roomID string) (json.RawMessage, error) {
	rows, err := b.receiptsSince(ctx, roomID)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	type receipt struct {
		TS       int64  `json:"ts"`
		ThreadID string `json:"thread_id,omitempty"`
	}
	content := map[string]map[string]map[string]receipt{}
	for _, r := range rows {
		if r.Type == "m.read.private" && r.UserID != b.req.UserID {
			continue
		}
		if content[r.EventID] == nil {
			content[r.EventID] = map[string]map[string]receipt{}
		}
		if content[r.EventID][r.Type] == nil {
			content[r.EventID][r.Type] = map[string]receipt{}
		}
		content[r.EventID][r.Type][r.UserID] = receipt{TS: r.TS, ThreadID: r.ThreadID}
	}
	if len(content) == 0 {
		return nil, nil
	}
	return json.Marshal(map[string]any{"type": "m.receipt", "content": content})
}
