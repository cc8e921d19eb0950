package main

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/kabarchat/kabar/configs"
)

// TestMediaUploadLimits: rate_limits.media_upload answers 429 with
// retry_after_ms, media.max_bytes_per_user answers 403 M_FORBIDDEN
// (content-repo.yaml, upload responses).
func TestMediaUploadLimits(t *testing.T) {
	eachServer(t, func(c *configs.Config) {
		mediaConfig(c)
		c.RateLimits.Enabled = true
		c.RateLimits.MediaUpload = configs.RateLimit{PerSecond: 0.001, Burst: 3}
		c.Media.MaxBytesPerUser = 3000
	}, func(t *testing.T, ts *testServer) {
		alice, bob := ts.register(t, "alice", "correct horse"), ts.register(t, "bob", "correct horse")
		up := "/_matrix/media/v3/upload"
		hdr := map[string]string{"Content-Type": "text/plain"}
		steps := []struct {
			name, method, path, token string
			size                      int
			status                    int
			code                      string
		}{
			{"alice within quota", "POST", up, alice, 2000, 200, ""},
			{"alice over quota", "POST", up, alice, 2000, 403, "M_FORBIDDEN"},
			{"bob 1", "POST", up, bob, 10, 200, ""},
			{"bob 2", "POST", "/_matrix/media/v1/create", bob, -1, 200, ""},
			{"bob 3", "POST", up, bob, 10, 200, ""},
			{"bob rate limited", "POST", up, bob, 10, 429, "M_LIMIT_EXCEEDED"},
			{"bob create rate limited", "POST", "/_matrix/media/v1/create", bob, -1, 429, "M_LIMIT_EXCEEDED"},
		}
		for _, s := range steps {
			var body []byte
			if s.size >= 0 {
				body = bytes.Repeat([]byte("u"), s.size)
			}
			resp, data := ts.mediaDo(t, s.method, s.path, s.token, hdr, body)
			var e struct {
				Errcode    string `json:"errcode"`
				RetryAfter int64  `json:"retry_after_ms"`
			}
			json.Unmarshal(data, &e)
			if resp.StatusCode != s.status || e.Errcode != s.code || (s.status == 429 && e.RetryAfter <= 0) {
				t.Fatalf("%s: %d %s", s.name, resp.StatusCode, data)
			}
		}
	})
}
