package main

import (
	"fmt"
	"net"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/configs"
	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/ratelimit"
)

// rateLimiters holds one limiter per rate-limited action. A nil field means
// rate limits are off: echoserver.RateLimit passes everything through.
type rateLimiters struct {
	Login        echoserver.Limiter // keyed by client IP
	Registration echoserver.Limiter // keyed by client IP
	Message      echoserver.Limiter // keyed by user ID
	MediaUpload  echoserver.Limiter // keyed by user ID
}

// newRateLimiters builds the limiters of rate_limits (KABAR_RATE_LIMITS=off
// turns them all off).
func newRateLimiters(cfg configs.RateLimits) (rateLimiters, error) {
	if !cfg.Enabled {
		return rateLimiters{}, nil
	}
	var rl rateLimiters
	for _, a := range []struct {
		name string
		set  configs.RateLimit
		dst  *echoserver.Limiter
	}{
		{"login", cfg.Login, &rl.Login},
		{"registration", cfg.Registration, &rl.Registration},
		{"message", cfg.Message, &rl.Message},
		{"media_upload", cfg.MediaUpload, &rl.MediaUpload},
	} {
		l, err := ratelimit.New(ratelimit.Options{PerSecond: a.set.PerSecond, Burst: a.set.Burst})
		if err != nil {
			return rateLimiters{}, fmt.Errorf("rate_limits.%s: %w", a.name, err)
		}
		*a.dst = l
	}
	return rl, nil
}

// ipExtractor decides the client address that IP rate limits key on. Only
// the configured proxies may name the client in X-Forwarded-For; Echo's
// default of trusting every private and loopback address is turned off, or
// any local process could spoof its address.
func ipExtractor(trustedProxies []string) (echo.IPExtractor, error) {
	if len(trustedProxies) == 0 {
		return echo.ExtractIPDirect(), nil
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, cidr := range trustedProxies {
		_, ipNet, err := net.ParseCIDR(cidr)
		if err != nil {
			return nil, fmt.Errorf("client.trusted_proxies: %q is not a CIDR: %w", cidr, err)
		}
		opts = append(opts, echo.TrustIPRange(ipNet))
	}
	return echo.ExtractIPFromXFFHeader(opts...), nil
}
