package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/sync/errgroup"

	"github.com/kabarchat/kabar/clientapi"
	"github.com/kabarchat/kabar/configs"
	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/web"
)

// server is a fully wired Kabar: listeners plus the background workers.
type server struct {
	cfg      *configs.Config
	log      *slog.Logger
	store    *store.Store
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
	api, err := clientapi.New(clientapi.Options{
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
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	api.Register(e)
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
	return &server{cfg: cfg, log: log, store: st, client: e, clientLn: ln, Ready: make(chan struct{})}, nil
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
