package ephemeral

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"

	"github.com/kabarchat/kabar/models/spec"
)

// PresenceUpdate is one entry of an m.presence EDU's push list
// (server-server-api "Presence"; last_active_ago is required there).
type PresenceUpdate struct {
	UserID          string  `json:"user_id"`
	Presence        string  `json:"presence"`
	LastActiveAgo   int64   `json:"last_active_ago"`
	StatusMsg       *string `json:"status_msg,omitempty"`
	CurrentlyActive bool    `json:"currently_active"`
}

// PresencePublisher sends our users' presence changes to every other
// server with a user sharing a room with them.
type PresencePublisher struct {
	ServerName spec.ServerName
	Queue      Queue
	Logger     *slog.Logger
}

// Publish queues an m.presence EDU for the servers of peers (the users
// sharing a room with u.UserID). Remote users' presence, which we only
// mirror, is never relayed: each server speaks for its own users.
func (p *PresencePublisher) Publish(_ context.Context, u PresenceUpdate, peers []string) {
	if uid, err := spec.ParseUserID(u.UserID); err != nil || uid.Server() != p.ServerName {
		return
	}
	var dests []spec.ServerName
	for _, m := range peers {
		uid, err := spec.ParseUserID(m)
		if err != nil || uid.Server() == p.ServerName || slices.Contains(dests, uid.Server()) {
			continue
		}
		dests = append(dests, uid.Server())
	}
	if len(dests) == 0 {
		return
	}
	b, err := json.Marshal(edu{Type: "m.presence", Content: map[string]any{"push": []PresenceUpdate{u}}})
	if err != nil {
		if p.Logger != nil {
			p.Logger.Warn("encode m.presence EDU", "err", err)
		}
		return
	}
	p.Queue.SendEDU(b, dests)
}
