package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/kabarchat/kabar/configs"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// testServer is a running Kabar on a free loopback port.
type testServer struct {
	URL  string
	Name string // "sqlite" or "postgres"
	srv  *server
}

// eachServer runs fn against a fresh running server per database dialect.
// mutate may adjust the configuration (registration mode, secrets...).
func eachServer(t *testing.T, mutate func(*configs.Config), fn func(t *testing.T, ts *testServer)) {
	for _, db := range storetest.URLs(t) {
		t.Run(db.Name, func(t *testing.T) {
			fn(t, startServer(t, db.URL, mutate))
		})
	}
}

func startServer(t testing.TB, dbURL string, mutate func(*configs.Config)) *testServer {
	t.Helper()
	cfg := configs.Default()
	cfg.ServerName = "kabar.test"
	cfg.Client.Listen = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Database.URL = dbURL
	cfg.RateLimits.Enabled = false
	if mutate != nil {
		mutate(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("test config: %v", err)
	}
	var logOut io.Writer = io.Discard
	if os.Getenv("KABAR_TEST_LOG") != "" {
		logOut = os.Stderr
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := newServer(ctx, cfg, slog.New(slog.NewTextHandler(logOut, nil)))
	if err != nil {
		cancel()
		t.Fatalf("start server: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	<-srv.Ready
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server stopped with error: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("server did not stop within 15s")
		}
	})
	return &testServer{URL: "http://" + srv.ClientAddr(), srv: srv}
}

// do sends a raw request and returns status and body.
func (ts *testServer) do(t testing.TB, method, path, token string, body io.Reader) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}
