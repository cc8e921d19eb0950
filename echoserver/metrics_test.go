package echoserver

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kabarchat/kabar/models/spec"
)

func TestMetricsLabels(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewMetrics(reg); err == nil {
		t.Fatal("registering twice on one registry should fail, not panic")
	}
	e := New(Options{MaxRequestBytes: 1024, Metrics: m})
	e.GET("/rooms/:roomId/state", func(c echo.Context) error { return c.String(200, "ok") })
	e.PUT("/rooms/:roomId/state", func(c echo.Context) error { return spec.Forbidden("no") })
	e.POST("/upload", func(c echo.Context) error { return BindJSON(c, &map[string]any{}) })
	srv := httptest.NewServer(e)
	defer srv.Close()

	requests := []struct{ method, path, body string }{
		{"GET", "/rooms/!a:x/state", ""},
		{"GET", "/rooms/!b:x/state", ""},
		{"PUT", "/rooms/!a:x/state", ""},
		{"DELETE", "/rooms/!a:x/state", ""},
		{"GET", "/no/such/path/12345", ""},
		{"POST", "/upload", strings.Repeat("x", 2000)},
		{"BREW", "/rooms/!a:x/state", ""},
	}
	for _, r := range requests {
		req, _ := http.NewRequest(r.method, srv.URL+r.path, strings.NewReader(r.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	want := map[string]float64{
		"GET /rooms/:roomId/state 200": 2,
		"PUT /rooms/:roomId/state 403": 1,
		"DELETE unmatched 405":         1,
		"GET unmatched 404":            1,
		"POST /upload 413":             1,
		"OTHER unmatched 405":          1,
	}
	got := gatherCounts(t, reg)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("kabar_http_requests_total{%s} = %v, want %v", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("series = %v, want exactly %v", got, want)
	}
}

// gatherCounts returns the request counter and checks that the histogram
// saw the same requests.
func gatherCounts(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts, observed := map[string]float64{}, map[string]float64{}
	for _, f := range families {
		for _, metric := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range metric.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			key := labels["method"] + " " + labels["route"] + " " + labels["status"]
			switch f.GetName() {
			case "kabar_http_requests_total":
				counts[key] = metric.GetCounter().GetValue()
			case "kabar_http_request_duration_seconds":
				observed[key] = float64(metric.GetHistogram().GetSampleCount())
			}
		}
	}
	for k, v := range counts {
		if observed[k] != v {
			t.Errorf("histogram{%s} has %v samples, counter %v", k, observed[k], v)
		}
	}
	return counts
}
