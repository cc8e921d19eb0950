package main

import (
	"context"
	"log/slog"

	"github.com/kabarchat/kabar/clientapi"
	clientsync "github.com/kabarchat/kabar/clientapi/sync"
	"github.com/kabarchat/kabar/e2ee"
	"github.com/kabarchat/kabar/federation/ephemeral"
	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// roomNotifiers fans the room service's notifications out: /sync wake-ups
// and the key server's membership watcher.
type roomNotifiers []rooms.Notifier

func (ns roomNotifiers) Notify(pos int64, users []string) {
	for _, n := range ns {
		n.Notify(pos, users)
	}
}

// newE2EE builds the key server; its EDUs go out through the federation
// sender and remote key requests through the federation client.
func newE2EE(ctx context.Context, serverName spec.ServerName, st *store.Store, roomSvc *rooms.Service,
	kick *e2ee.Kick, n *clientsync.Notifier, fed *federationPart, log *slog.Logger) (*e2ee.Service, []clientsync.ExtensionSource, error) {
	svc, err := e2ee.New(ctx, e2ee.Options{
		Store: st, ServerName: serverName, Events: roomSvc.Stream(), Kick: kick, Notifier: n,
		Outbox: ephemeral.Outbox{Queue: fed.sender}, Remote: ephemeral.KeyClient{Client: fed.client},
		Logger: log.With("component", "e2ee"),
	})
	if err != nil {
		return nil, nil, err
	}
	ext := []clientsync.ExtensionSource{clientapi.ToDeviceSync{Keys: svc}, clientapi.DeviceListSync{Keys: svc}}
	return svc, ext, nil
}
