package main

import (
	"strings"
	"testing"

	"github.com/kabarchat/kabar/configs"
)

// TestMetricsEndpoint checks /metrics over a running server: the HTTP
// counter is labelled by route template, and runtime metrics are present.
func TestMetricsEndpoint(t *testing.T) {
	eachServer(t, nil, func(t *testing.T, ts *testServer) {
		for range 3 {
			ts.do(t, "GET", "/_matrix/client/versions", "", nil)
		}
		ts.do(t, "GET", "/_matrix/client/v3/no/such/thing", "", nil)
		code, body := ts.do(t, "GET", "/metrics", "", nil)
		if code != 200 {
			t.Fatalf("/metrics: %d %s", code, body)
		}
		for _, want := range []string{
			`kabar_http_requests_total{method="GET",route="/_matrix/client/versions",status="200"} 3`,
			`kabar_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
			`kabar_http_request_duration_seconds_count{method="GET",route="/_matrix/client/versions",status="200"} 3`,
			"go_goroutines",
			"process_resident_memory_bytes",
		} {
			if !strings.Contains(string(body), want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		if strings.Contains(string(body), "no/such/thing") {
			t.Error("/metrics leaks a raw request path into a label")
		}
	})
	t.Run("disabled", func(t *testing.T) {
		ts := startServer(t, "", func(c *configs.Config) { c.Metrics.Enabled = false })
		if code, _ := ts.do(t, "GET", "/metrics", "", nil); code != 404 {
			t.Fatalf("/metrics with metrics off: %d, want 404", code)
		}
	})
}
