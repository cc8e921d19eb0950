package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/sync/errgroup"

	"github.com/kabarchat/kabar/configs"
	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/federation/fedclient"
	"github.com/kabarchat/kabar/federation/keys"
	"github.com/kabarchat/kabar/federation/membership"
	"github.com/kabarchat/kabar/federation/receiver"
	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/federation/sender"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// federationPart is the server-server side: the outbound client, the key
// ring and, when federation.listen is set, the TLS listener with the
// receiver's handlers.
type federationPart struct {
	serverName spec.ServerName
	key        *keys.SigningKey
	store      *store.Store
	client     *fedclient.Client
	ring       *keys.Ring
	sender     *sender.Sender
	echo       *echo.Echo
	ln         net.Listener // nil: federation is not served
	// receiver is nil when federation is not served (set by attach); media
	// adds its routes.
	receiver *receiver.Receiver
	log      *slog.Logger
}

func newFederation(cfg *configs.Config, serverName spec.ServerName, st *store.Store, log *slog.Logger) (*federationPart, error) {
	log = log.With("component", "federation")
	// The room service loads the same key file; reading it twice is cheap
	// and keeps the two constructors independent.
	key, err := keys.LoadOrCreate(filepath.Join(cfg.DataDir, "signing.key"))
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	client, err := fedclient.New(fedclient.Options{
		ServerName: string(serverName), Key: key, Logger: log,
		TrustedCAFile:         cfg.Federation.TrustedCAFile,
		AllowPrivateAddresses: cfg.Federation.AllowPrivateAddresses,
	})
	if err != nil {
		return nil, err
	}
	var notaries []keys.Notary
	for _, n := range cfg.Federation.KeyNotaries {
		if _, err := spec.ParseServerName(n); err != nil {
			return nil, fmt.Errorf("federation.key_notaries: %w", err)
		}
		notaries = append(notaries, keys.Notary{ServerName: n})
	}
	old, err := keys.LoadOld(keys.OldKeysPath(filepath.Join(cfg.DataDir, "signing.key")), key)
	if err != nil {
		return nil, err
	}
	ring := keys.NewRing(keys.RingOptions{Store: st, Transport: client, ServerName: string(serverName), Key: key,
		Old: old, Notaries: notaries, Logger: log})
	snd := sender.New(sender.Options{Store: st, Client: client, ServerName: serverName, Logger: log,
		MinBackoff: cfg.Federation.RetryMin, MaxBackoff: cfg.Federation.RetryMax, CatchUpAfter: cfg.Federation.CatchUpAfter})
	f := &federationPart{serverName: serverName, key: key, store: st, client: client, ring: ring, sender: snd, log: log}
	if cfg.Federation.Listen == "" {
		return f, nil
	}
	f.echo = echoserver.New(echoserver.Options{Logger: log, MaxRequestBytes: 10 << 20})
	ln, err := net.Listen("tcp", cfg.Federation.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on federation.listen %s: %w", cfg.Federation.Listen, err)
	}
	if cfg.Federation.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.Federation.TLSCert, cfg.Federation.TLSKey)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("federation TLS certificate: %w", err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}})
	} else {
		// Plain HTTP is only useful behind a TLS-terminating proxy.
		log.Warn("federation listener has no tls_cert: serving plain HTTP")
	}
	f.ln = ln
	return f, nil
}

// attach connects the room service: the receiver's handlers and the
// membership service the client API uses for remote joins and invites.
func (f *federationPart) attach(roomSvc *rooms.Service, edus eduSinks) *membership.Service {
	if f.echo != nil {
		opts := receiver.Options{ServerName: f.serverName, Key: f.key, Ring: f.ring, Store: f.store, Rooms: roomSvc,
			Client: f.client, Version: Version, OnOrigin: f.sender.Wake, Logger: f.log}
		edus.options(&opts)
		f.receiver = receiver.New(opts)
		f.receiver.Register(f.echo)
	}
	return membership.New(membership.Options{ServerName: f.serverName, Key: f.key, Ring: f.ring,
		Client: f.client, Rooms: roomSvc, Logger: f.log})
}

// Run serves the federation listener and runs the sender until ctx ends.
func (f *federationPart) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return f.sender.Run(ctx) })
	g.Go(func() error { return f.serve(ctx) })
	return g.Wait()
}

func (f *federationPart) serve(ctx context.Context) error {
	if f.ln == nil {
		<-ctx.Done()
		return nil
	}
	srv := &http.Server{Handler: f.echo, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(shutdownCtx)
	}()
	f.log.Info("listening for federation", "addr", f.ln.Addr().String())
	if err := srv.Serve(f.ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("federation listener: %w", err)
	}
	return nil
}

// Addr is the federation listener's address ("" if not served).
func (f *federationPart) Addr() string {
	if f.ln == nil {
		return ""
	}
	return f.ln.Addr().String()
}
