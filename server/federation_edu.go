package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	clientsync "github.com/kabarchat/kabar/clientapi/sync"
	"github.com/kabarchat/kabar/e2ee"
	"github.com/kabarchat/kabar/federation/ephemeral"
	"github.com/kabarchat/kabar/federation/receiver"
	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/federation/sender"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/presence"
)

// eduSinks are where the receiver hands the EDUs of /send: the key server,
// the sync engine (typing, receipts) and presence.
type eduSinks struct {
	keys     *e2ee.Service
	sync     *clientsync.Syncer
	presence *presence.Tracker
	store    *store.Store
}

// options fills the receiver's EDU fields.
func (s eduSinks) options(o *receiver.Options) {
	o.Keys = s.keys
	o.Ephemeral = s.sync
	if s.presence != nil && s.presence.Enabled() {
		o.Presence = remotePresence{tracker: s.presence, store: s.store}
	}
}

// Compile-time checks of the consumers' interfaces.
var (
	_ receiver.KeyServer = (*e2ee.Service)(nil)
	_ receiver.Ephemeral = (*clientsync.Syncer)(nil)
	_ e2ee.Outbox        = ephemeral.Outbox{}
	_ e2ee.Remote        = ephemeral.KeyClient{}
	_ ephemeral.Queue    = (*sender.Sender)(nil)
	_ receiver.Presence  = remotePresence{}
)

// publisher relays local typing and receipts to the room's other servers.
func (f *federationPart) publisher(roomSvc *rooms.Service, log *slog.Logger) *ephemeral.Publisher {
	return &ephemeral.Publisher{ServerName: f.serverName, Rooms: roomSvc, Queue: f.sender, Logger: log}
}

// presencePublisher relays local presence changes to the servers sharing a
// room with the user.
func (f *federationPart) presencePublisher(log *slog.Logger) *ephemeral.PresencePublisher {
	return &ephemeral.PresencePublisher{ServerName: f.serverName, Queue: f.sender, Logger: log}
}

// publishPresence adapts the tracker's change hook to the publisher: an
// m.presence push entry (server-server-api "Presence") from a Status.
func publishPresence(out *ephemeral.PresencePublisher) func(context.Context, string, presence.Status, []string) {
	return func(ctx context.Context, userID string, st presence.Status, peers []string) {
		u := ephemeral.PresenceUpdate{UserID: userID, Presence: st.Presence, StatusMsg: st.StatusMsg}
		if st.LastActiveAgo != nil {
			u.LastActiveAgo = *st.LastActiveAgo
		}
		if st.CurrentlyActive != nil {
			u.CurrentlyActive = *st.CurrentlyActive
		}
		out.Publish(ctx, u, peers)
	}
}

// remotePresence applies m.presence EDUs (server-server-api "Presence") to
// the presence tracker, for users of the origin known to share a room with
// one of ours (so a peer cannot fill memory with made-up users).
type remotePresence struct {
	tracker *presence.Tracker
	store   *store.Store
}

func (p remotePresence) ReceiveRemotePresence(ctx context.Context, origin spec.ServerName, raw json.RawMessage) error {
	var edu struct {
		Push []struct {
			UserID    string  `json:"user_id"`
			Presence  string  `json:"presence"`
			StatusMsg *string `json:"status_msg"`
		} `json:"push"`
	}
	if err := json.Unmarshal(raw, &edu); err != nil {
		return spec.BadJSON("m.presence: %v", err)
	}
	for _, u := range edu.Push {
		uid, err := spec.ParseUserID(u.UserID)
		if err != nil || uid.Server() != origin || !presence.Valid(u.Presence) {
			continue
		}
		rooms, err := p.store.RoomsOfUser(ctx, u.UserID, "join")
		if err != nil {
			return fmt.Errorf("rooms of %s: %w", u.UserID, err)
		}
		if len(rooms) > 0 {
			p.tracker.Set(ctx, u.UserID, u.Presence, u.StatusMsg)
		}
	}
	return nil
}
