package echoserver

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// BenchmarkMiddleware measures what Kabar's shared middleware (CORS, access
// log, metrics, body limit) adds to one request, without the network: the
// per-request overhead behind server's BenchmarkVersionsVsBare ratio.
func BenchmarkMiddleware(b *testing.B) {
	handler := func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]any{"versions": []string{"v1.1"}}) }
	metrics, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cases := []struct {
		name string
		e    *echo.Echo
	}{
		{"bare", echo.New()},
		{"kabar-nolog", New(Options{MaxRequestBytes: 1 << 20})},
		{"kabar-log", New(Options{MaxRequestBytes: 1 << 20, Logger: logger})},
		{"kabar-log-metrics", New(Options{MaxRequestBytes: 1 << 20, Logger: logger, Metrics: metrics})},
	}
	for _, tc := range cases {
		tc.e.GET("/versions", handler)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			req := httptest.NewRequest(http.MethodGet, "/versions", nil)
			for b.Loop() {
				tc.e.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}
