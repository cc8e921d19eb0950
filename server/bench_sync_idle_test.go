package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kabarchat/kabar/clientapi/authn"
	"github.com/kabarchat/kabar/configs"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// BenchmarkSyncIdle10k holds 10,000 idle /sync long-polls open (issue 4:
// RSS under 500 MB), each on its own keep-alive connection, spread over 20
// users with 500 devices each. Devices are minted in the store (a login
// per device would hash a password each time). The clients run in a child
// process (this test binary re-executed as TestIdlePollClients): the
// open-files hard limit (20,000 here) cannot hold both ends of 10,000
// connections, and so the RSS read from /proc/self/status (VmRSS) is the
// server's alone (with the benchmark's small share); heap-MB is
// runtime.MemStats.HeapInuse after a GC.
func BenchmarkSyncIdle10k(b *testing.B) {
	const users, devices = 20, 500
	raiseFDLimit(b, users*devices+1000)
	db := storetest.URLs(b)[0]
	ts := startServer(b, db.URL, func(c *configs.Config) { benchOpenRegistration(c); c.Presence.Enabled = false })
	client := &http.Client{}
	tokens := idleTokens(b, ts, client, users, devices)
	since := syncToken(b, client, ts.URL, tokens[0])
	tokFile := filepath.Join(b.TempDir(), "tokens")
	if err := os.WriteFile(tokFile, []byte(strings.Join(tokens, "\n")), 0o600); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		runtime.GC()
		base := processRSS(b)
		cmd := exec.Command(os.Args[0], "-test.run=^TestIdlePollClients$")
		cmd.Env = append(os.Environ(), "KABAR_IDLE_URL="+ts.URL, "KABAR_IDLE_SINCE="+since, "KABAR_IDLE_TOKENS="+tokFile)
		stdin, _ := cmd.StdinPipe()
		cmd.Stderr = os.Stderr
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		for ts.srv.sync.notifier.Waiting() < int64(len(tokens)) {
			if time.Since(start) > 3*time.Minute {
				b.Fatalf("only %d of %d long-polls parked", ts.srv.sync.notifier.Waiting(), len(tokens))
			}
			time.Sleep(10 * time.Millisecond)
		}
		parked := time.Since(start)
		// Two collections: the first frees the garbage of 10,000 first
		// responses, the second shrinks the stacks that building them grew
		// (a running server collects at least every two minutes).
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		rss := processRSS(b)
		// What the runtime keeps is mostly free heap it has not returned
		// yet (the scavenger does so in the background over minutes):
		// RSS after returning it is the steady state.
		debug.FreeOSMemory()
		b.ReportMetric(processRSS(b), "RSS-returned-MB")
		b.ReportMetric(float64(ms.StackInuse)/(1<<20), "stack-MB")
		if f := os.Getenv("KABAR_BENCH_HEAPPROF"); f != "" {
			writeHeapProfile(b, f)
		}
		b.ReportMetric(rss, "RSS-MB")
		b.ReportMetric(rss-base, "RSS-growth-MB")
		b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MB")
		b.ReportMetric(float64(runtime.NumGoroutine()), "goroutines")
		b.ReportMetric(parked.Seconds(), "s-to-park")
		stdin.Close() // the child cancels its polls and exits
		if err := cmd.Wait(); err != nil {
			b.Fatalf("client process: %v", err)
		}
		for ts.srv.sync.notifier.Waiting() > 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// TestIdlePollClients is BenchmarkSyncIdle10k's client process: it parks
// one long-poll per token until its stdin closes.
func TestIdlePollClients(t *testing.T) {
	base := os.Getenv("KABAR_IDLE_URL")
	if base == "" {
		t.Skip("only run by BenchmarkSyncIdle10k")
	}
	data, err := os.ReadFile(os.Getenv("KABAR_IDLE_TOKENS"))
	if err != nil {
		t.Fatal(err)
	}
	tokens := strings.Split(string(data), "\n")
	var lim syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	lim.Cur = lim.Max
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: len(tokens)}}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i, tok := range tokens {
		wg.Go(func() { idlePoll(ctx, client, base, os.Getenv("KABAR_IDLE_SINCE"), tok) })
		if i%500 == 499 {
			time.Sleep(20 * time.Millisecond) // let the listener's backlog drain
		}
	}
	io.Copy(io.Discard, os.Stdin)
	cancel()
	wg.Wait()
}

// idleTokens registers users and mints devices for them in the store.
func idleTokens(b *testing.B, ts *testServer, client *http.Client, users, devices int) []string {
	ctx := context.Background()
	var out []string
	for u := range users {
		registerUser(b, client, ts.URL, fmt.Sprint("idle", u))
		for d := range devices {
			tok := fmt.Sprintf("syt_idle_%d_%d", u, d)
			dev := models.Device{UserID: fmt.Sprintf("@idle%d:kabar.test", u), DeviceID: fmt.Sprint("DEV", d), CreatedAt: 1}
			at := models.AccessToken{TokenHash: authn.HashToken(tok), UserID: dev.UserID, DeviceID: dev.DeviceID, CreatedAt: 1}
			if err := ts.srv.store.CreateSession(ctx, dev, at, nil); err != nil {
				b.Fatal(err)
			}
			out = append(out, tok)
		}
	}
	return out
}

// idlePoll parks one long-poll until ctx ends.
func idlePoll(ctx context.Context, client *http.Client, base, since, token string) {
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/_matrix/client/v3/sync?timeout=110000&since="+since, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
	}
}

// syncToken is an initial sync's next_batch (positions only: any user may
// continue from it).
func syncToken(b *testing.B, client *http.Client, base, token string) string {
	var r struct {
		NextBatch string `json:"next_batch"`
	}
	body := getBody(b, client, base+"/_matrix/client/v3/sync?timeout=0", token)
	if err := json.Unmarshal(body, &r); err != nil || r.NextBatch == "" {
		b.Fatalf("initial sync: %v %s", err, body)
	}
	return r.NextBatch
}

// raiseFDLimit lifts the soft open-files limit (both ends of every
// connection live in this process).
func raiseFDLimit(b *testing.B, want uint64) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Fatal(err)
	}
	if lim.Cur >= want {
		return
	}
	lim.Cur = min(want, lim.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur < want {
		b.Skipf("cannot raise the open-files limit to %d (max %d): %v", want, lim.Max, err)
	}
}

// processRSS is this process's VmRSS in MB.
func processRSS(b *testing.B) float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status")
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	b.Skip("no VmRSS")
	return 0
}

func writeHeapProfile(b *testing.B, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}
