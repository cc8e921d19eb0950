package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/sync/errgroup"

	"github.com/kabarchat/kabar/appservice"
	"github.com/kabarchat/kabar/clientapi"
	clientsync "github.com/kabarchat/kabar/clientapi/sync"
	"github.com/kabarchat/kabar/configs"
	"github.com/kabarchat/kabar/e2ee"
	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/federation/keys"
	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/media"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/notifications"
	"github.com/kabarchat/kabar/web"
)

// server is a fully wired Kabar: listeners plus the background workers.
type server struct {
	cfg      *configs.Config
	log      *slog.Logger
	store    *store.Store
	rooms    *rooms.Service
	sync     *syncPart
	push     *pushPart
	keys     *e2ee.Service
	fed      *federationPart
	media    *media.Repo
	appsvc   *appservice.Service
	client   *echo.Echo
	clientLn net.Listener
	// Ready is closed once the listeners accept connections (tests wait on it).
	Ready chan struct{}
}

// roomVersions are the stable room versions (rooms/_index.md).
var roomVersions = []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"}

func newServer(ctx context.Context, cfg *configs.Config, log *slog.Logger) (*server, error) {
	start := time.Now()
	serverName, err := spec.ParseServerName(cfg.ServerName)
	if err != nil {
		return nil, fmt.Errorf("server_name: %w", err)
	}
	httpOpts, metricsHandler, err := echoOptions(cfg, log)
	if err != nil {
		return nil, err
	}
	limits, err := newRateLimiters(cfg.RateLimits)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, store.Options{URL: cfg.DatabaseURL(), MaxOpenConns: cfg.Database.MaxOpenConns, Logger: log})
	if err != nil {
		return nil, err
	}
	log.Info("database ready", "dialect", st.Dialect(), "took", time.Since(start).Round(time.Millisecond))

	httpOpts.OwnBodyLimitPrefixes = append(httpOpts.OwnBodyLimitPrefixes, clientapi.MediaUploadPrefix)
	e := echoserver.New(httpOpts)
	baseURL := cfg.PublicBaseURL
	if baseURL == "" {
		baseURL = "http://" + cfg.Client.Listen
	}
	accounts, err := newAccounts(cfg, serverName, st, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	notifier := clientsync.NewNotifier()
	keysKick := e2ee.NewKick()
	pushKick := notifications.NewKick()
	asKick := appservice.NewKick()
	notifiers := roomNotifiers{notifier, keysKick, pushKick}
	wakeSide := notifier.Wake // typing and presence changes
	if len(accounts.AppServiceRegistry().All()) > 0 {
		notifiers = append(notifiers, asKick) // no doorbell to ring without services
		wakeSide = func(users ...string) { notifier.Wake(users...); asKick.Notify(0, nil) }
	}
	fed, err := newFederation(cfg, serverName, st, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	roomSvc, err := newRooms(ctx, cfg, serverName, st, notifiers, fed.sender, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	keys, keysSync, err := newE2EE(ctx, serverName, st, roomSvc, keysKick, notifier, fed, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	var syncP *syncPart
	putAccountData := func(ctx context.Context, userID, typ, content string) error {
		return syncP.syncer.PutAccountData(ctx, userID, "", typ, content)
	}
	pushSvc, err := newPush(cfg, serverName, st, roomSvc, pushKick, putAccountData, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	tracker, err := newPresence(ctx, cfg, st, wakeSide, fed.presencePublisher(log), log)
	if err != nil {
		st.Close()
		return nil, err
	}
	pushP := &pushPart{notes: pushSvc, presence: tracker}
	syncP, err = newSync(ctx, cfg, st, roomSvc, notifier, wakeSide, append(keysSync, pushP.presence), unreadSource{pushSvc}, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	fedMembership := fed.attach(roomSvc, eduSinks{keys: keys, sync: syncP.syncer, presence: pushP.presence, store: st})
	syncP.backfill.svc = fedMembership
	appServices, err := newAppServices(ctx, st, roomSvc, accounts, asKick, syncP, pushP.presence, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	mediaRepo, mediaOpts, err := newMedia(cfg, serverName, st, fed.client, limits.MediaUpload, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	if fed.receiver != nil {
		fed.receiver.RegisterMedia(fed.echo, mediaRepo)
	}
	api, err := clientapi.New(clientapi.Options{
		FederationServer:         cfg.Federation.WellKnownServer,
		Media:                    mediaOpts,
		Rooms:                    roomSvc,
		Federation:               fedMembership,
		Spaces:                   newSpaces(fed, roomSvc, log),
		OpenID:                   newOpenID(fed),
		EphemeralOut:             fed.publisher(roomSvc, log),
		Sync:                     syncP.syncer,
		Push:                     pushSvc,
		Presence:                 pushP.presence,
		E2EE:                     keys,
		KeyBackups:               st,
		UserDirectorySearchAll:   cfg.UserDirectory.SearchAllUsers,
		MessageLimiter:           limits.Message,
		ServerName:               serverName,
		PublicBaseURL:            baseURL,
		RoomVersions:             roomVersions,
		DefaultRoomVersion:       cfg.Rooms.DefaultVersion,
		Logger:                   log,
		Accounts:                 accounts,
		Store:                    st,
		Registration:             cfg.Registration.Mode,
		RegistrationSharedSecret: cfg.Registration.SharedSecret,
		TokenLogin:               cfg.Login.TokenLogin,
		LoginLimiter:             limits.Login,
		RegisterLimiter:          limits.Registration,
		VoIP:                     voipOptions(cfg),
		Admin:                    clientapi.AdminOptions{Store: st, ServerVersion: Version},
		AppServices:              appServices,
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	api.Register(e)
	if fed.receiver != nil {
		fed.receiver.RegisterDirectory(fed.echo, api) // federation /publicRooms
	}
	if metricsHandler != nil {
		e.GET("/metrics", metricsHandler)
	}
	e.GET("/health", func(c echo.Context) error {
		if err := st.Ping(c.Request().Context()); err != nil {
			return spec.NewError(http.StatusServiceUnavailable, spec.ErrUnknown, "database unreachable")
		}
		return c.String(http.StatusOK, "OK")
	})
	web.Register(e)

	ln, err := net.Listen("tcp", cfg.Client.Listen)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("listen on client.listen %s: %w", cfg.Client.Listen, err)
	}
	return &server{cfg: cfg, log: log, store: st, rooms: roomSvc, sync: syncP, push: pushP, keys: keys, fed: fed, media: mediaRepo, appsvc: appServices, client: e, clientLn: ln, Ready: make(chan struct{})}, nil
}

// newRooms loads (or creates) the signing key and builds the room service;
// its commits wake /sync through notifier. The federation outbox stays a
// no-op until that part is wired.
func newRooms(ctx context.Context, cfg *configs.Config, serverName spec.ServerName, st *store.Store, notifier rooms.Notifier, outbox rooms.Outbox, log *slog.Logger) (*rooms.Service, error) {
	key, err := keys.LoadOrCreate(filepath.Join(cfg.DataDir, "signing.key"))
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	svc, err := rooms.New(ctx, rooms.Options{
		Store: st, ServerName: serverName, Key: key,
		DefaultRoomVersion: cfg.Rooms.DefaultVersion,
		Notifier:           notifier,
		Outbox:             outbox,
		Logger:             log.With("component", "rooms"),
	})
	if err != nil {
		return nil, fmt.Errorf("room service: %w", err)
	}
	return svc, nil
}

// Run serves until ctx ends, then shuts down gracefully.
func (s *server) Run(ctx context.Context) error {
	defer s.store.Close()
	g, ctx := errgroup.WithContext(ctx)
	httpSrv := &http.Server{
		Handler:           s.client,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	g.Go(func() error { return s.rooms.Run(ctx) })
	g.Go(func() error { return s.sync.Run(ctx) })
	g.Go(func() error { return s.push.Run(ctx) })
	g.Go(func() error { return s.keys.Run(ctx) })
	g.Go(func() error { return s.fed.Run(ctx) })
	g.Go(func() error { return s.media.Run(ctx) })
	g.Go(func() error { return s.appsvc.Run(ctx) })
	<-s.rooms.Ready() // no request may reach the room service before it runs
	g.Go(func() error {
		s.log.Info("listening for clients", "addr", s.clientLn.Addr().String(), "server_name", s.cfg.ServerName)
		close(s.Ready)
		if err := httpSrv.Serve(s.clientLn); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("client listener: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		s.log.Info("shutting down")
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return httpSrv.Shutdown(shutdownCtx)
	})
	err := g.Wait()
	s.log.Info("stopped")
	return err
}

// ClientAddr is the address the client listener is bound to.
func (s *server) ClientAddr() string { return s.clientLn.Addr().String() }
