package main

import (
	"context"
	"log/slog"

	"github.com/kabarchat/kabar/clientapi/clientevent"
	clientsync "github.com/kabarchat/kabar/clientapi/sync"
	"github.com/kabarchat/kabar/configs"
	"github.com/kabarchat/kabar/federation/membership"
	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/federation/rooms/streampos"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// syncPart is the /sync machinery: the notifier the room service wakes and
// the syncer the client API calls.
type syncPart struct {
	notifier *clientsync.Notifier
	syncer   *clientsync.Syncer
	typing   *clientsync.Typing
	receipts *streampos.Allocator
	// backfill is bound to the federation membership service once it
	// exists (it is built after the syncer).
	backfill *lateBackfill
}

// lateBackfill forwards /messages backfills to the membership service.
type lateBackfill struct{ svc *membership.Service }

func (b *lateBackfill) Backfill(ctx context.Context, roomID spec.RoomID, user spec.UserID) bool {
	if b.svc == nil {
		return false
	}
	return b.svc.Backfill(ctx, roomID, user)
}

// newSync builds the syncer over the room service's event stream and the
// side streams, which continue after the positions already stored.
// wake is how side-stream changes wake their users (the notifier, and the
// application service senders).
func newSync(ctx context.Context, cfg *configs.Config, st *store.Store, roomSvc *rooms.Service, n *clientsync.Notifier, wake func(userIDs ...string), ext []clientsync.ExtensionSource, unread clientsync.UnreadSource, log *slog.Logger) (*syncPart, error) {
	adPos, err := st.MaxStreamPos(ctx, "account_data")
	if err != nil {
		return nil, err
	}
	rcPos, err := st.MaxStreamPos(ctx, "receipts")
	if err != nil {
		return nil, err
	}
	p := &syncPart{notifier: n, backfill: &lateBackfill{}, receipts: streampos.New(rcPos)}
	// A typing change wakes the room's joined members.
	p.typing = clientsync.NewTyping(func(roomID string) {
		members, err := roomSvc.Members(context.Background(), spec.RoomID(roomID), "join")
		if err != nil {
			log.Warn("load members for typing", "room", roomID, "err", err)
			return
		}
		wake(members...)
	}, nil)
	streams := &clientsync.Streams{
		Events:      roomSvc.Stream(),
		AccountData: streampos.New(adPos),
		Receipts:    p.receipts,
		Typing:      p.typing,
		Extensions:  ext,
	}
	p.syncer, err = clientsync.New(clientsync.Options{
		Rooms: roomSvc, Store: st, Streams: streams, Notifier: n,
		Format:     &clientevent.Formatter{Rooms: roomSvc, Bundles: clientevent.NewBundleCache()},
		MaxTimeout: cfg.Sync.MaxTimeout,
		Unread:     unread,
		Backfill:   p.backfill,
		Logger:     log.With("component", "sync"),
	})
	return p, err
}

// Run expires typing notifications until ctx ends.
func (p *syncPart) Run(ctx context.Context) error { return p.typing.Run(ctx) }
