// Package ephemeral carries the traffic between servers that is not room
// history: our EDUs out (typing, receipts, presence, and the key server's
// to-device, device-list and signing-key EDUs, server-server-api "EDUs")
// through the sender's durable queues, and key requests to other servers
// (/user/keys/query, /user/keys/claim, /user/devices).
package ephemeral

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"

	"github.com/kabarchat/kabar/models/spec"
)

// Queue durably queues a whole EDU ({"edu_type","content"}) for servers;
// the federation sender implements it.
type Queue interface {
	SendEDU(edu []byte, destinations []spec.ServerName)
}

// Members lists a room's users with a membership (the room service).
type Members interface {
	Members(ctx context.Context, roomID spec.RoomID, membership string) ([]string, error)
}

// edu is the envelope of every EDU (server-server-api "EDUs").
type edu struct {
	Type    string `json:"edu_type"`
	Content any    `json:"content"`
}

// Outbox queues EDUs; it implements the key server's e2ee.Outbox.
type Outbox struct{ Queue Queue }

// SendEDU wraps content in the EDU envelope and queues it.
func (o Outbox) SendEDU(_ context.Context, eduType string, content json.RawMessage, destinations []spec.ServerName) error {
	b, err := json.Marshal(edu{Type: eduType, Content: content})
	if err != nil {
		return fmt.Errorf("encode %s EDU: %w", eduType, err)
	}
	o.Queue.SendEDU(b, destinations)
	return nil
}

// Publisher sends our users' typing notifications and read receipts to the
// other servers in the room (server-server-api "Typing Notifications",
// "Receipts").
type Publisher struct {
	ServerName spec.ServerName
	Rooms      Members
	Queue      Queue
	Logger     *slog.Logger
}

// Typing announces that a local user started or stopped typing.
func (p *Publisher) Typing(ctx context.Context, roomID, userID string, typing bool) {
	content := map[string]any{"room_id": roomID, "user_id": userID, "typing": typing}
	p.publish(ctx, roomID, userID, edu{Type: "m.typing", Content: content})
}

// Receipt announces a local user's public read receipt. Private receipts
// (m.read.private) never leave the server.
func (p *Publisher) Receipt(ctx context.Context, roomID, userID, receiptType, eventID, threadID string, ts int64) {
	if receiptType != "m.read" {
		return
	}
	data := map[string]any{"ts": ts}
	if threadID != "" {
		data["thread_id"] = threadID
	}
	content := map[string]any{roomID: map[string]any{receiptType: map[string]any{
		userID: map[string]any{"event_ids": []string{eventID}, "data": data}}}}
	p.publish(ctx, roomID, userID, edu{Type: "m.receipt", Content: content})
}

// publish queues e for every other server with a joined member in the
// room; only our own users' ephemeral data is ever relayed.
func (p *Publisher) publish(ctx context.Context, roomID, userID string, e edu) {
	if u, err := spec.ParseUserID(userID); err != nil || u.Server() != p.ServerName {
		return
	}
	dests, err := p.remoteServers(ctx, roomID)
	if err != nil {
		p.log().Warn("find servers for EDU", "type", e.Type, "room", roomID, "err", err)
		return
	}
	if len(dests) == 0 {
		return
	}
	b, err := json.Marshal(e)
	if err != nil {
		p.log().Warn("encode EDU", "type", e.Type, "err", err)
		return
	}
	p.Queue.SendEDU(b, dests)
}

// remoteServers lists the servers other than ours with a joined member.
func (p *Publisher) remoteServers(ctx context.Context, roomID string) ([]spec.ServerName, error) {
	members, err := p.Rooms.Members(ctx, spec.RoomID(roomID), "join")
	if err != nil {
		return nil, err
	}
	var out []spec.ServerName
	for _, m := range members {
		u, err := spec.ParseUserID(m)
		if err != nil || u.Server() == p.ServerName || slices.Contains(out, u.Server()) {
			continue
		}
		out = append(out, u.Server())
	}
	return out, nil
}

func (p *Publisher) log() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Logger
}
