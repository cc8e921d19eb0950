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
	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/store"
)

var (
	_ appservice.Store      = (*store.Store)(nil)
	_ clientapi.AppServices = (*appservice.Service)(nil)
	_ rooms.Notifier        = (*appservice.Kick)(nil)
)

// newAppServices builds the application service pusher over the room
// service's stream, for the registrations the accounts service loaded
// (newAccounts). Transactions carry events formatted as /sync does.
func newAppServices(ctx context.Context, st *store.Store, roomSvc *rooms.Service, accounts *authn.Service, kick *appservice.Kick, log *slog.Logger) (*appservice.Service, error) {
	f := &clientevent.Formatter{Rooms: roomSvc}
	svc, err := appservice.New(appservice.Options{
		Registry: accounts.AppServiceRegistry(), Store: st, Events: roomSvc.Stream(), Kick: kick,
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
