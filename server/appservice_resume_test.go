package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	mxas "maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/kabarchat/kabar/configs"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// startStoppableWith starts a server on dbURL and dataDir with mutate
// applied; stop shuts it down (also at cleanup).
func startStoppableWith(t *testing.T, dbURL, dataDir string, mutate func(*configs.Config)) (*testServer, func()) {
	t.Helper()
	cfg := configs.Default()
	cfg.ServerName, cfg.Client.Listen, cfg.DataDir, cfg.Database.URL = "kabar.test", "127.0.0.1:0", dataDir, dbURL
	cfg.RateLimits.Enabled = false
	mutate(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := newServer(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		cancel()
		t.Fatalf("start server: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	<-srv.Ready
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil {
				t.Errorf("server stopped with error: %v", err)
			}
		}
	}
	t.Cleanup(stop)
	return &testServer{URL: "http://" + srv.ClientAddr(), srv: srv}, stop
}

// TestAppServiceResumesAfterRestart: transactions the service never
// accepted before Kabar stopped are delivered after the restart, under the
// same transaction ID, and nothing is lost.
func TestAppServiceResumesAfterRestart(t *testing.T) {
	for _, db := range storetest.URLs(t) {
		t.Run(db.Name, func(t *testing.T) {
			f := newFakeAppService(t)
			mutate := withAppServices(t, f)
			dataDir := t.TempDir()
			ts, stop := startStoppableWith(t, db.URL, dataDir, mutate)
			f.setFailing(-1) // down from now on
			alice, room := bridgedRoom(t, ts)
			asSendText(t, ts, alice, room, "m1")
			asSendText(t, ts, alice, room, "m2")
			inFlight := f.waitAttempts(t, 2, "no transaction attempted while the service was down")
			stop()

			f.setFailing(0)
			startStoppableWith(t, db.URL, dataDir, mutate)
			f.waitBodies(t, []string{"m1", "m2"}, 15*time.Second)
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.accepted[0].ID != inFlight {
				t.Errorf("first transaction after restart %s, want the one in flight before it, %s", f.accepted[0].ID, inFlight)
			}
		})
	}
}

// mautrixBridge is a mautrix-go appservice registered with a server on
// dbURL, its ghost joined to alice's room.
type mautrixBridge struct {
	as    *mxas.AppService
	reg   *mxas.Registration
	ghost *mxas.IntentAPI
	alice *mautrix.Client
	room  id.RoomID
}

// startMautrixBridge starts it; ephemeral sets receive_ephemeral.
func startMautrixBridge(t *testing.T, dbURL string, ephemeral bool) *mautrixBridge {
	t.Helper()
	ctx := context.Background()
	as := mxas.Create()
	srvAS := newHTTPTestServer(t, as.Router)
	reg := mxas.CreateRegistration()
	reg.ID, reg.URL, reg.SenderLocalpart = "mxbridge", srvAS, "mxbot"
	reg.Namespaces.UserIDs.Register(regexp.MustCompile(`@_mx_.*:kabar\.test`), true)
	reg.RateLimited = new(bool)
	reg.EphemeralEvents = ephemeral
	as.Registration = reg
	path := t.TempDir() + "/mx.yaml"
	if err := reg.Save(path); err != nil {
		t.Fatal(err)
	}
	ts, _ := startStoppableWith(t, dbURL, t.TempDir(), func(c *configs.Config) {
		openRegistration(c)
		c.AppServiceConfigFiles = []string{path}
	})
	as.HomeserverDomain = "kabar.test"
	if err := as.SetHomeserverURL(ts.URL); err != nil {
		t.Fatal(err)
	}
	ghost := as.Intent("@_mx_carol:kabar.test")
	if err := ghost.EnsureRegistered(ctx); err != nil {
		t.Fatalf("ensure registered: %v", err)
	}
	alice := registerClient(t, ts, "alice")
	room, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Invite: []id.UserID{ghost.UserID}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ghost.EnsureJoined(ctx, room.RoomID); err != nil {
		t.Fatalf("ghost join: %v", err)
	}
	return &mautrixBridge{as: as, reg: reg, ghost: ghost, alice: alice, room: room.RoomID}
}

// TestAppServiceMautrix: mautrix-go's appservice package (what the mautrix
// bridges are built on) registers a ghost, joins it, sends as it, receives
// a user's message through its transaction handler, and pings.
func TestAppServiceMautrix(t *testing.T) {
	for _, db := range storetest.URLs(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			b := startMautrixBridge(t, db.URL, false)
			if _, err := b.as.BotClient().AppservicePing(ctx, b.reg.ID, "mx-ping"); err != nil {
				t.Fatalf("ping: %v", err)
			}
			if _, err := b.ghost.SendMessageEvent(ctx, b.room, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: "from the bridge"}, mautrix.ReqSendEvent{Timestamp: 1700000000000}); err != nil {
				t.Fatalf("ghost send: %v", err)
			}
			if _, err := b.alice.SendText(ctx, b.room, "to the bridge"); err != nil {
				t.Fatal(err)
			}
			timeout := time.After(15 * time.Second)
			for {
				select {
				case ev := <-b.as.Events:
					if ev.Type == event.EventMessage && ev.Sender == b.alice.UserID {
						if strings.Contains(ev.Content.AsMessage().Body, "to the bridge") {
							return
						}
					}
				case <-timeout:
					t.Fatal("the bridge never received alice's message")
				}
			}
		})
	}
}

// TestAppServiceBadRegistration: a broken registration file stops the
// server with the file and the reason, for the operator.
func TestAppServiceBadRegistration(t *testing.T) {
	dir := t.TempDir()
	good := writeRegistration(t, dir, "bridge", "http://127.0.0.1:1", asToken, hsToken)
	dup := writeRegistration(t, dir, "other", "http://127.0.0.1:2", asToken, "other_hs")
	badRegex := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badRegex, []byte("id: bad\nurl: null\nas_token: a\nhs_token: h\nsender_localpart: bot\nnamespaces:\n  users:\n    - exclusive: true\n      regex: \"@_bad_(\"\n"), 0o600)
	for _, tc := range []struct {
		name  string
		files []string
		want  []string
	}{
		{"duplicate as_token", []string{good, dup}, []string{"share a token", "bridge.yaml", "other.yaml"}},
		{"bad regex", []string{badRegex}, []string{"bad.yaml", "namespaces.users[0]", "not a valid regular expression"}},
		{"missing file", []string{filepath.Join(dir, "nope.yaml")}, []string{"nope.yaml"}},
	} {
		cfg := configs.Default()
		cfg.ServerName, cfg.Client.Listen, cfg.DataDir = "kabar.test", "127.0.0.1:0", t.TempDir()
		cfg.AppServiceConfigFiles = tc.files
		_, err := newServer(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: err = %v, want it to mention %q", tc.name, err, w)
			}
		}
	}
}
