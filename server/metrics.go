package main

import (
	"fmt"
	"log/slog"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kabarchat/kabar/configs"
	"github.com/kabarchat/kabar/echoserver"
)

// newMetrics builds this server's own Prometheus registry (never the global
// default one, so two servers in one test process do not collide) with the
// Go runtime, process and HTTP collectors, and the /metrics handler over it.
func newMetrics() (*echoserver.Metrics, echo.HandlerFunc, error) {
	reg := prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			return nil, nil, fmt.Errorf("register runtime metrics: %w", err)
		}
	}
	m, err := echoserver.NewMetrics(reg)
	if err != nil {
		return nil, nil, err
	}
	return m, echo.WrapHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})), nil
}

// echoOptions builds the shared Echo settings from the config: the client
// address rate limits key on, the body limit, and metrics when enabled. The
// returned handler serves /metrics (nil when metrics are off).
func echoOptions(cfg *configs.Config, log *slog.Logger) (echoserver.Options, echo.HandlerFunc, error) {
	ipx, err := ipExtractor(cfg.Client.TrustedProxies)
	if err != nil {
		return echoserver.Options{}, nil, err
	}
	opts := echoserver.Options{Logger: log, MaxRequestBytes: cfg.Client.MaxRequestBytes, IPExtractor: ipx}
	if !cfg.Metrics.Enabled {
		return opts, nil, nil
	}
	m, handler, err := newMetrics()
	if err != nil {
		return echoserver.Options{}, nil, err
	}
	opts.Metrics = m
	return opts, handler, nil
}
