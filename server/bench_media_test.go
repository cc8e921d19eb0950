package main

import (
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kabarchat/kabar/configs"
	"github.com/kabarchat/kabar/models/store/storetest"
)

const benchMediaSize = 100 << 20

// patternReader yields n deterministic bytes without holding them.
type patternReader struct{ left int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.left <= 0 {
		return 0, io.EOF
	}
	n := min(int64(len(b)), p.left)
	for i := range b[:n] {
		b[i] = byte(i*31 + int(p.left))
	}
	p.left -= n
	return int(n), nil
}

// BenchmarkMedia100MB uploads and downloads 100 MB through the client API,
// checks the bytes, and reports MB/s next to a plain file copy of the same
// size on the same disk, and the process RSS growth (streaming keeps it flat).
func BenchmarkMedia100MB(b *testing.B) {
	ts := startServer(b, storetest.URLs(b)[0].URL, func(c *configs.Config) {
		c.Registration.Mode = configs.RegistrationOpen
		c.Media.MaxUploadBytes = benchMediaSize
	})
	token := registerUser(b, benchClient(), ts.URL, "bench")
	client := &http.Client{Timeout: 5 * time.Minute}
	rss0 := vmRSS(b, os.Getpid())
	var up, down, copyT time.Duration
	for b.Loop() {
		want := sha256.New()
		io.Copy(want, &patternReader{left: benchMediaSize})
		start := time.Now()
		req, _ := http.NewRequest("POST", ts.URL+"/_matrix/media/v3/upload", &patternReader{left: benchMediaSize})
		req.ContentLength = benchMediaSize
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/octet-stream")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var r struct {
			ContentURI string `json:"content_uri"`
		}
		json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		up += time.Since(start)
		start = time.Now()
		req, _ = http.NewRequest("GET", ts.URL+"/_matrix/client/v1/media/download/"+strings.TrimPrefix(r.ContentURI, "mxc://"), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err = client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		got := sha256.New()
		io.Copy(got, resp.Body)
		resp.Body.Close()
		down += time.Since(start)
		if string(got.Sum(nil)) != string(want.Sum(nil)) {
			b.Fatal("downloaded bytes differ")
		}
		copyT += fileCopy(b, ts.srv.cfg.MediaPath())
	}
	mb := float64(benchMediaSize) / (1 << 20) * float64(b.N)
	b.ReportMetric(mb/up.Seconds(), "upload_MB/s")
	b.ReportMetric(mb/down.Seconds(), "download_MB/s")
	b.ReportMetric(mb/copyT.Seconds(), "filecopy_MB/s")
	b.ReportMetric(float64(vmRSS(b, os.Getpid())-rss0)/1024, "rss_growth_MB")
}

// fileCopy writes then copies a 100 MB file in dir: the disk's own speed.
func fileCopy(b *testing.B, dir string) time.Duration {
	src, dst := filepath.Join(dir, "bench-src"), filepath.Join(dir, "bench-dst")
	f, _ := os.Create(src)
	io.Copy(f, &patternReader{left: benchMediaSize})
	f.Close()
	defer os.Remove(src)
	defer os.Remove(dst)
	start := time.Now()
	in, _ := os.Open(src)
	out, _ := os.Create(dst)
	io.Copy(out, in)
	in.Close()
	out.Close()
	return time.Since(start)
}
