package echoserver

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// unmatchedRoute labels requests no route matched, so random paths cannot
// create new time series.
const unmatchedRoute = "unmatched"

// Metrics counts requests and observes their latency, labelled by method,
// route template (c.Path(), never the raw path: IDs in paths would make the
// label set unbounded) and status.
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewMetrics registers the HTTP collectors on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	labels := []string{"method", "route", "status"}
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kabar_http_requests_total",
			Help: "HTTP requests answered, by method, route template and status.",
		}, labels),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kabar_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by method, route template and status.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, labels),
	}
	for _, c := range []prometheus.Collector{m.requests, m.latency} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register HTTP metrics: %w", err)
		}
	}
	return m, nil
}

// Middleware records every request that reaches routing. It lets the error
// handler write a failed request's response first, so the status recorded
// is the one the client saw.
func (m *Metrics) Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			m.record(c, err, start)
			return nil
		}
	}
}

// record counts one finished request; it is kept out of the middleware's
// frame, which sits under every parked /sync long-poll (see logRequest).
//
//go:noinline
func (m *Metrics) record(c echo.Context, err error, start time.Time) {
	route := c.Path()
	if err != nil {
		var herr *echo.HTTPError
		if errors.As(err, &herr) && (herr.Code == http.StatusNotFound || herr.Code == http.StatusMethodNotAllowed) {
			route = unmatchedRoute
		}
		c.Error(err)
	}
	if route == "" {
		route = unmatchedRoute
	}
	status := strconv.Itoa(c.Response().Status)
	method := methodLabel(c.Request().Method)
	m.requests.WithLabelValues(method, route, status).Inc()
	m.latency.WithLabelValues(method, route, status).Observe(time.Since(start).Seconds())
}

// methodLabel keeps the method label bounded: any method a client invents
// is counted as OTHER.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodDelete, http.MethodPatch, http.MethodOptions:
		return m
	}
	return "OTHER"
}
