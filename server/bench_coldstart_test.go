package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// listeningLine matches the log line serve writes once the client listener
// accepts connections.
var listeningLine = regexp.MustCompile(`msg="?listening for clients"? .*addr=([0-9.:\[\]]+)`)

// BenchmarkColdStart builds the real binary (or takes KABAR_BENCH_BIN), then runs `kabar serve` on an
// empty SQLite database in a fresh data directory per iteration, and
// reports the median time from process start to the "listening" log line
// and to the first 200 from /health, and the largest idle RSS seen
// (issue 2: well under a second; idle RSS under 40 MB).
func BenchmarkColdStart(b *testing.B) {
	bin := os.Getenv("KABAR_BENCH_BIN") // e.g. bin/kabar from `make build`
	if bin == "" {
		bin = filepath.Join(b.TempDir(), "kabar")
		build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, ".")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			b.Fatalf("build: %v\n%s", err, out)
		}
	}
	var toListen, toHealth []time.Duration
	var maxRSS int64
	b.ResetTimer()
	for range b.N {
		listen, health, rss := coldStart(b, bin)
		toListen = append(toListen, listen)
		toHealth = append(toHealth, health)
		maxRSS = max(maxRSS, rss)
	}
	b.StopTimer()
	b.ReportMetric(float64(median(toListen).Microseconds())/1000, "ms-to-listen(median)")
	b.ReportMetric(float64(median(toHealth).Microseconds())/1000, "ms-to-health(median)")
	b.ReportMetric(float64(maxRSS)/1024, "idle-RSS-MB(max)")
}

// coldStart runs one `kabar serve` until it answers /health, reads its idle
// RSS, and stops it with SIGTERM. The whole cycle is timed on purpose (ns/op
// is one start-measure-stop cycle), so -benchtime 3s means a handful of
// starts, not hundreds; the figures that matter are the reported metrics.
func coldStart(b *testing.B, bin string) (listen, health time.Duration, rssKB int64) {
	dir := b.TempDir()
	cmd := exec.Command(bin, "serve")
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"KABAR_DATA_DIR=" + filepath.Join(dir, "data"),
		"KABAR_CLIENT_ADDR=127.0.0.1:0",
	}
	watch := &logWatcher{addr: make(chan string, 1)}
	cmd.Stderr = watch
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill() }) // only matters on failure
	var addr string
	select {
	case addr = <-watch.addr:
	case <-time.After(10 * time.Second):
		b.Fatalf("kabar serve never logged listening; log:\n%s", watch.String())
	}
	listen = time.Since(start)
	waitHealthy(b, "http://"+addr+"/health")
	health = time.Since(start)
	time.Sleep(300 * time.Millisecond) // let start-up garbage settle: "idle"
	rssKB = vmRSS(b, cmd.Process.Pid)
	stopProcess(b, cmd)
	return listen, health, rssKB
}

// logWatcher is the server's stderr: it keeps the log and sends the client
// address once the listening line appears.
type logWatcher struct {
	mu   sync.Mutex
	log  strings.Builder
	addr chan string
	sent bool
}

func (w *logWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.log.Write(p)
	if !w.sent {
		if m := listeningLine.FindStringSubmatch(w.log.String()); m != nil {
			w.addr <- m[1]
			w.sent = true
		}
	}
	return len(p), nil
}

func (w *logWatcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.log.String()
}

func waitHealthy(b *testing.B, url string) {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(time.Millisecond)
	}
	b.Fatalf("%s never answered 200", url)
}

// vmRSS reads the resident set size in kB from /proc/PID/status.
func vmRSS(b *testing.B, pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Skipf("no /proc here: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				b.Fatalf("parse VmRSS %q: %v", line, err)
			}
			return kb
		}
	}
	b.Fatalf("/proc/%d/status has no VmRSS", pid)
	return 0
}

// stopProcess sends SIGTERM and waits for a clean exit.
func stopProcess(b *testing.B, cmd *exec.Cmd) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			b.Errorf("kabar serve exited with %v after SIGTERM", err)
		}
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		b.Error("kabar serve did not stop within 15s of SIGTERM")
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
