package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	clientsync "github.com/kabarchat/kabar/clientapi/sync"
	"github.com/kabarchat/kabar/configs"
	"github.com/kabarchat/kabar/federation/ephemeral"
	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/media"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/notifications"
	"github.com/kabarchat/kabar/presence"
)

// newPush builds the notification service over the room service's stream;
// kick is the doorbell the room service rings (see roomNotifiers).
// accountData publishes m.push_rules (the syncer, built after this service).
func newPush(cfg *configs.Config, serverName spec.ServerName, st *store.Store, roomSvc *rooms.Service, kick *notifications.Kick,
	accountData func(ctx context.Context, userID, typ, content string) error, log *slog.Logger) (*notifications.Service, error) {
	client, err := gatewayClient(cfg.Push.OutboundAllowNetworks)
	if err != nil {
		return nil, err
	}
	return notifications.New(notifications.Options{
		Store: st, ServerName: serverName, Events: roomSvc.Stream(), Kick: kick,
		AccountData: accountData,
		Client:      client,
		Logger:      log.With("component", "push"),
	})
}

// gatewayClient is the HTTP client for push gateways. Like URL previews it
// refuses loopback, private and special addresses (media.AddressAllowed,
// checked on the address actually dialled) unless allowed by config.
func gatewayClient(networks []string) (*http.Client, error) {
	var allow []netip.Prefix
	for _, n := range networks {
		p, err := netip.ParsePrefix(n)
		if err != nil {
			return nil, fmt.Errorf("push.outbound_allow_networks: %w", err)
		}
		allow = append(allow, p)
	}
	d := media.GuardedDialer(allow)
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy:                 nil, // a proxy would hide the real destination from the check
			DialContext:           d.DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 15 * time.Second,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       60 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}

// newPresence builds the presence tracker; it wakes the users sharing a
// room with whoever changed, and sends our users' changes to the servers
// of those users. The saved presence is loaded before any request.
func newPresence(ctx context.Context, cfg *configs.Config, st *store.Store, wake func(userIDs ...string), out *ephemeral.PresencePublisher, log *slog.Logger) (*presence.Tracker, error) {
	t := presence.New(presence.Options{
		Enabled:      cfg.Presence.Enabled,
		IdleTimeout:  cfg.Presence.IdleTimeout,
		OfflineAfter: cfg.Sync.MaxTimeout + time.Minute,
		Peers:        st.UsersSharingRoomWith,
		Wake:         wake,
		Publish:      publishPresence(out),
		Store:        st,
		Logger:       log,
	})
	return t, t.Load(ctx)
}

// pushPart is push notifications and presence: both follow what happens in
// rooms and feed /sync beside the timeline.
type pushPart struct {
	notes    *notifications.Service
	presence *presence.Tracker
}

// Run records and delivers notifications and expires presence until ctx
// ends.
func (p *pushPart) Run(ctx context.Context) error {
	errc := make(chan error, 2)
	go func() { errc <- p.presence.Run(ctx) }()
	go func() { errc <- p.presence.Persist(ctx) }()
	err := p.notes.Run(ctx)
	for range 2 {
		if perr := <-errc; err == nil {
			err = perr
		}
	}
	return err
}

// unreadSource adapts the notification service to the syncer's
// UnreadSource (the sync package keeps its own count type).
type unreadSource struct{ *notifications.Service }

func (u unreadSource) ThreadedUnreadCounts(ctx context.Context, userID, roomID string) (clientsync.UnreadCounts, map[string]clientsync.UnreadCounts, error) {
	main, threads, err := u.ThreadedUnread(ctx, userID, roomID)
	if err != nil {
		return clientsync.UnreadCounts{}, nil, err
	}
	out := make(map[string]clientsync.UnreadCounts, len(threads))
	for id, c := range threads {
		out[id] = clientsync.UnreadCounts{NotificationCount: c.Notify, HighlightCount: c.Highlight}
	}
	return clientsync.UnreadCounts{NotificationCount: main.Notify, HighlightCount: main.Highlight}, out, nil
}
