package echoserver

import (
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/models/spec"
)

// Limiter decides whether the holder of key may make one more request now;
// when not, it says how long to wait. ratelimit.Limiter implements it.
type Limiter interface {
	Allow(key string) (bool, time.Duration)
}

// KeyFunc picks the rate-limit key of a request: the client IP for login
// and registration, the user ID for authenticated actions. An empty key
// means the request is not limited.
type KeyFunc func(c echo.Context) string

// ByIP keys requests by client address, as decided by the Echo instance's
// IPExtractor (so only trusted proxies may speak for a client).
func ByIP(c echo.Context) string { return c.RealIP() }

// RateLimit answers 429 M_LIMIT_EXCEEDED with retry_after_ms and a
// Retry-After header once key's budget is spent (client-server-api, "Rate
// limiting"; the error handler writes both). A nil limiter means rate limits
// are off and the middleware passes everything through.
func RateLimit(l Limiter, key KeyFunc) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		if l == nil {
			return next
		}
		return func(c echo.Context) error {
			k := key(c)
			if k == "" {
				return next(c)
			}
			if ok, wait := l.Allow(k); !ok {
				return spec.LimitExceeded(retryAfterMs(wait))
			}
			return next(c)
		}
	}
}

// retryAfterMs rounds up so a client that waits exactly this long succeeds.
func retryAfterMs(d time.Duration) int64 {
	ms := int64((d + time.Millisecond - 1) / time.Millisecond)
	if ms < 1 {
		ms = 1
	}
	return ms
}
