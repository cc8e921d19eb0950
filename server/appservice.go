package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/kabarchat/kabar/appservice"
	"github.com/kabarchat/kabar/clientapi"
	"github.com/kabarchat/kabar/clientapi/authn"
	"github.com/kabarchat/kabar/clientapi/clientevent"
	clientsync "github.com/kabarchat/kabar/clientapi/sync"
	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/presence"
)

var (
	_ appservice.Store        = (*store.Store)(nil)
	_ clientapi.AppServices   = (*appservice.Service)(nil)
	_ rooms.Notifier          = (*appservice.Kick)(nil)
	_ appservice.TypingSource = (*clientsync.Typing)(nil)
)

// presenceChanges adapts the presence tracker to appservice.PresenceSource.
type presenceChanges struct{ *presence.Tracker }

func (p presenceChanges) Changes(since, upto int64) map[string]any {
	changed := p.Tracker.Changes(since, upto)
	out := make(map[string]any, len(changed))
	for u, st := range changed {
		out[u] = st
	}
	return out
}

// newAppServices builds the application service pusher over the room
// service's stream, for the registrations the accounts service loaded
// (newAccounts). Transactions carry events formatted as /sync does.
// Services with receive_ephemeral also get the receipts, typing and
// presence /sync reads.
func newAppServices(ctx context.Context, st *store.Store, roomSvc *rooms.Service, accounts *authn.Service, kick *appservice.Kick, syncP *syncPart, tracker *presence.Tracker, log *slog.Logger) (*appservice.Service, error) {
	f := &clientevent.Formatter{Rooms: roomSvc}
	eph := &appservice.EphemeralSources{Receipts: syncP.receipts, Typing: syncP.typing}
	if tracker.Enabled() {
		eph.Presence = presenceChanges{tracker}
	}
	svc, err := appservice.New(appservice.Options{
		Registry: accounts.AppServiceRegistry(), Store: st, Events: roomSvc.Stream(), Kick: kick,
		Ephemeral: eph,
		Format: func(ctx context.Context, rows []models.Event) ([]any, error) {
			evs, err := f.Rows(ctx, clientevent.Viewer{}, rows)
			if err != nil {
				return nil, err
			}
			out := make([]any, len(evs))
			for i := range evs {
				out[i] = evs[i]
			}
			return out, nil
		},
		CreateUser: accounts.CreateAppServiceUser,
		// Services are the operator's own processes, usually on loopback:
		// no private-address guard, but a bound on each request.
		Client: &http.Client{Timeout: 60 * time.Second},
		Logger: log.With("component", "appservice"),
	})
	if err != nil {
		return nil, err
	}
	if n := len(svc.Registry().All()); n > 0 {
		log.Info("application services registered", "count", n)
	}
	return svc, svc.CreateSenders(ctx)
}
