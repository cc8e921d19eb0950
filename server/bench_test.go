package main

// Benchmarks for issue 2's performance targets; docs/PERFORMANCE.md has the
// commands and figures. They are benchmarks, not timed tests: nothing here
// fails because the machine is slow.

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// benchClient keeps enough idle keep-alive connections for every parallel
// client, so the benchmarks measure requests, not TCP handshakes.
func benchClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 256
	tr.MaxIdleConnsPerHost = 256
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// hammer sends GET url from b.RunParallel's goroutines until b.N requests
// are done; every answer must have status want.
func hammer(b *testing.B, client *http.Client, url, token string, want int) {
	b.Helper()
	b.ReportAllocs()
	b.SetParallelism(4) // 4 × GOMAXPROCS clients: enough to saturate the server.
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			b.Error(err)
			return
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		for pb.Next() {
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != want {
				b.Errorf("GET %s: status %d, want %d", url, resp.StatusCode, want)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// startBareEcho serves body as JSON from a bare Echo (no middleware at all)
// on loopback, the ceiling Kabar's handlers are compared with.
func startBareEcho(b *testing.B, path string, body any) string {
	b.Helper()
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET(path, func(c echo.Context) error { return c.JSON(http.StatusOK, body) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			b.Errorf("bare echo: %v", err)
		}
	}()
	b.Cleanup(func() { srv.Shutdown(context.Background()) })
	return "http://" + ln.Addr().String() + path
}

// getJSON fetches url and decodes its JSON body (outside any timing).
func getJSON(b *testing.B, client *http.Client, url, token string) any {
	b.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var v any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return v
}

// versionsPath is the unauthenticated endpoint issue 2 measures.
const versionsPath = "/_matrix/client/versions"

// BenchmarkVersions: GET /_matrix/client/versions on a full Kabar (error
// handler, CORS, access log, metrics, body limit) over loopback.
func BenchmarkVersions(b *testing.B) {
	client := benchClient()
	ts := startServer(b, filepath.Join(b.TempDir(), "kabar.db"), nil)
	hammer(b, client, ts.URL+versionsPath, "", http.StatusOK)
}

// BenchmarkBareEcho: a bare Echo handler returning the same JSON as
// /versions, the ceiling for BenchmarkVersions.
func BenchmarkBareEcho(b *testing.B) {
	client := benchClient()
	ts := startServer(b, filepath.Join(b.TempDir(), "kabar.db"), nil)
	bare := startBareEcho(b, versionsPath, getJSON(b, client, ts.URL+versionsPath, ""))
	hammer(b, client, bare, "", http.StatusOK)
}

// BenchmarkVersionsVsBare sends the two workloads in alternating rounds, so
// load from anything else on the machine hits both alike, and reports the
// ratio Kabar/bare of requests per second (issue 2's target: >= 0.80).
func BenchmarkVersionsVsBare(b *testing.B) {
	client := benchClient()
	ts := startServer(b, filepath.Join(b.TempDir(), "kabar.db"), nil)
	bare := startBareEcho(b, versionsPath, getJSON(b, client, ts.URL+versionsPath, ""))
	interleave(b, client, target{url: ts.URL + versionsPath}, target{url: bare})
}
