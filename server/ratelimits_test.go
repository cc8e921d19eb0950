package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/configs"
)

func TestNewRateLimitersFromConfig(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		wantOn  bool
		wantErr bool
	}{
		{"default is on", nil, true, false},
		{"KABAR_RATE_LIMITS=off", map[string]string{"KABAR_RATE_LIMITS": "off"}, false, false},
		{"KABAR_RATE_LIMITS=on", map[string]string{"KABAR_RATE_LIMITS": "on"}, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := configs.Load("", func(k string) string { return tc.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			rl, err := newRateLimiters(cfg.RateLimits)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			for name, l := range map[string]any{"login": rl.Login, "registration": rl.Registration, "message": rl.Message} {
				if (l != nil) != tc.wantOn {
					t.Errorf("%s limiter set = %v, want %v", name, l != nil, tc.wantOn)
				}
			}
		})
	}
	bad := configs.Default().RateLimits
	bad.Login.Burst = 0
	if _, err := newRateLimiters(bad); err == nil || !strings.Contains(err.Error(), "rate_limits.login") {
		t.Fatalf("bad login settings: err = %v", err)
	}
}

func TestIPExtractor(t *testing.T) {
	cases := []struct {
		name    string
		trusted []string
		remote  string
		xff     string
		want    string
		wantErr bool
	}{
		{"direct ignores XFF", nil, "127.0.0.1:1234", "203.0.113.9", "127.0.0.1", false},
		{"trusted proxy names client", []string{"10.0.0.0/8"}, "10.1.2.3:1234", "203.0.113.9", "203.0.113.9", false},
		{"untrusted loopback cannot spoof", []string{"10.0.0.0/8"}, "127.0.0.1:1234", "203.0.113.9", "127.0.0.1", false},
		{"bad CIDR", []string{"10.0.0.0"}, "", "", "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ipx, err := ipExtractor(tc.trusted)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				return
			}
			req := httptest.NewRequest("GET", "/", nil)
			req.RemoteAddr = tc.remote
			req.Header.Set(echo.HeaderXForwardedFor, tc.xff)
			if got := ipx(req); got != tc.want {
				t.Errorf("client IP = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestRateLimitsOverHTTP drives login and registration on a running server
// past their burst: 429 M_LIMIT_EXCEEDED with retry_after_ms and
// Retry-After once the budget is spent, and never with
// KABAR_RATE_LIMITS=off.
func TestRateLimitsOverHTTP(t *testing.T) {
	const burst = 3
	cases := []struct {
		name, env, path, body string
		limited               bool
	}{
		{"login on", "on", "/_matrix/client/v3/login",
			`{"type":"m.login.password","identifier":{"type":"m.id.user","user":"nobody"},"password":"wrong"}`, true},
		{"register on", "on", "/_matrix/client/v3/register", `{"username":"someone","password":"long enough pw"}`, true},
		{"login off", "off", "/_matrix/client/v3/login",
			`{"type":"m.login.password","identifier":{"type":"m.id.user","user":"nobody"},"password":"wrong"}`, false},
		{"register off", "off", "/_matrix/client/v3/register", `{"username":"someone","password":"long enough pw"}`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			loaded, err := configs.Load("", func(k string) string {
				return map[string]string{"KABAR_RATE_LIMITS": tc.env}[k]
			})
			if err != nil {
				t.Fatal(err)
			}
			ts := startServer(t, "", func(c *configs.Config) {
				c.Registration.Mode = configs.RegistrationOpen
				c.RateLimits = loaded.RateLimits
				c.RateLimits.Login = configs.RateLimit{PerSecond: 0.1, Burst: burst}
				c.RateLimits.Registration = configs.RateLimit{PerSecond: 0.1, Burst: burst}
			})
			for i := range burst + 2 {
				resp, body := postRaw(t, ts.URL+tc.path, tc.body)
				over := i >= burst && tc.limited
				if got := resp.StatusCode == http.StatusTooManyRequests; got != over {
					t.Fatalf("request %d: %d %s, want limited=%v", i, resp.StatusCode, body, over)
				}
				if over {
					checkLimitExceeded(t, resp, body)
				}
			}
		})
	}
}

func postRaw(t *testing.T, url, body string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

// checkLimitExceeded checks the 429 the spec describes: M_LIMIT_EXCEEDED,
// retry_after_ms, and Retry-After in whole seconds covering it.
func checkLimitExceeded(t *testing.T, resp *http.Response, body []byte) {
	t.Helper()
	var e struct {
		Errcode      string `json:"errcode"`
		RetryAfterMs int64  `json:"retry_after_ms"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Errcode != "M_LIMIT_EXCEEDED" || e.RetryAfterMs <= 0 {
		t.Fatalf("429 body %s (%v)", body, err)
	}
	secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || int64(secs)*1000 < e.RetryAfterMs {
		t.Fatalf("Retry-After %q does not cover retry_after_ms %d", resp.Header.Get("Retry-After"), e.RetryAfterMs)
	}
}
