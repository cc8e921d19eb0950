package echoserver

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/ratelimit"
)

func TestRetryAfterMs(t *testing.T) {
	cases := []struct {
		in   time.Duration
		want int64
	}{
		{0, 1},
		{time.Microsecond, 1},
		{time.Millisecond, 1},
		{1500 * time.Microsecond, 2},
		{2 * time.Second, 2000},
	}
	for _, tc := range cases {
		if got := retryAfterMs(tc.in); got != tc.want {
			t.Errorf("retryAfterMs(%v) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// TestRateLimitOverHTTP drives a real Echo (Kabar's error handler) over
// loopback with a real token-bucket limiter.
func TestRateLimitOverHTTP(t *testing.T) {
	limiter, err := ratelimit.New(ratelimit.Options{PerSecond: 0.5, Burst: 2})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		limiter Limiter // nil: rate limits off
		key     KeyFunc
		want    []int
	}{
		{"limited by IP", limiter, ByIP, []int{200, 200, 429, 429}},
		{"off", nil, ByIP, []int{200, 200, 200, 200, 200}},
		{"empty key is not limited", limiter, func(echo.Context) string { return "" }, []int{200, 200, 200}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := New(Options{MaxRequestBytes: 1024})
			e.POST("/login", func(c echo.Context) error { return c.JSON(200, map[string]string{}) },
				RateLimit(tc.limiter, tc.key))
			srv := httptest.NewServer(e)
			defer srv.Close()
			for i, want := range tc.want {
				resp, err := http.Post(srv.URL+"/login", "application/json", nil)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != want {
					t.Fatalf("request %d: status %d %s, want %d", i, resp.StatusCode, body, want)
				}
				if want == 429 {
					checkLimitExceeded(t, resp, body)
				}
			}
		})
	}
}

// checkLimitExceeded checks the 429 body and header the spec asks for: the
// M_LIMIT_EXCEEDED errcode, retry_after_ms and Retry-After in seconds.
func checkLimitExceeded(t *testing.T, resp *http.Response, body []byte) {
	t.Helper()
	var e struct {
		Errcode      string `json:"errcode"`
		Error        string `json:"error"`
		RetryAfterMs int64  `json:"retry_after_ms"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("429 body %s: %v", body, err)
	}
	if e.Errcode != "M_LIMIT_EXCEEDED" || e.Error == "" || e.RetryAfterMs <= 0 || e.RetryAfterMs > 2000 {
		t.Fatalf("429 body = %s", body)
	}
	secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || secs < 1 || int64(secs)*1000 < e.RetryAfterMs {
		t.Fatalf("Retry-After = %q for retry_after_ms %d", resp.Header.Get("Retry-After"), e.RetryAfterMs)
	}
}
