package main

import (
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// target is one endpoint a comparison benchmark sends GETs to.
type target struct {
	url, token string
}

const (
	roundSize    = 2000 // requests per round and target
	benchWorkers = 8    // concurrent keep-alive clients (4 × 2 cores)
)

// interleave sends b.N GETs to each of kabar and bare in alternating rounds
// of roundSize, timing each side separately, and reports both rates and
// their ratio. ns/op is Kabar's time per request.
func interleave(b *testing.B, client *http.Client, kabar, bare target) {
	b.Helper()
	var kabarTime, bareTime time.Duration
	b.ResetTimer()
	for done := 0; done < b.N; done += roundSize {
		n := min(roundSize, b.N-done)
		kabarTime += round(b, client, kabar, n)
		bareTime += round(b, client, bare, n)
	}
	b.StopTimer()
	kabarRate := float64(b.N) / kabarTime.Seconds()
	bareRate := float64(b.N) / bareTime.Seconds()
	b.ReportMetric(float64(kabarTime.Nanoseconds())/float64(b.N), "ns/op")
	b.ReportMetric(kabarRate, "kabar-req/s")
	b.ReportMetric(bareRate, "bare-req/s")
	b.ReportMetric(kabarRate/bareRate, "ratio")
}

// round sends n GETs to t from benchWorkers goroutines and returns the wall
// time they took.
func round(b *testing.B, client *http.Client, t target, n int) time.Duration {
	var left atomic.Int64
	left.Store(int64(n))
	var wg sync.WaitGroup
	start := time.Now()
	for range benchWorkers {
		wg.Go(func() {
			req, err := http.NewRequest(http.MethodGet, t.url, nil)
			if err != nil {
				b.Error(err)
				return
			}
			if t.token != "" {
				req.Header.Set("Authorization", "Bearer "+t.token)
			}
			for left.Add(-1) >= 0 {
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("GET %s: status %d", t.url, resp.StatusCode)
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}
