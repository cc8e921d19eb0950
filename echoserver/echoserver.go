// Package echoserver builds the Echo instance every Kabar HTTP surface shares
// (client API, federation, web client): the one Matrix error handler, CORS,
// request-size limits, the access log and strict JSON request binding.
package echoserver

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/models/spec"
)

// Options configures New.
type Options struct {
	Logger *slog.Logger
	// MaxRequestBytes bounds every request body; larger ones get 413 M_TOO_LARGE.
	MaxRequestBytes int64
	// IPExtractor decides the client address (trusted proxies); nil: direct.
	IPExtractor echo.IPExtractor
	// Metrics, when set, counts and times every routed request.
	Metrics *Metrics
	// OwnBodyLimitPrefixes are URL path prefixes whose handlers stream large
	// bodies and enforce their own limit (media uploads); MaxRequestBytes
	// does not apply to them.
	OwnBodyLimitPrefixes []string
}

// New returns an Echo with Kabar's error handler and middleware installed.
func New(opts Options) *echo.Echo {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = ErrorHandler(log)
	if opts.IPExtractor != nil {
		e.IPExtractor = opts.IPExtractor
	} else {
		e.IPExtractor = echo.ExtractIPDirect()
	}
	e.Pre(cors, cleanURL)
	e.Use(accessLog(log))
	if opts.Metrics != nil {
		// Inside the access log, outside the body limit: a 413 is counted too.
		e.Use(opts.Metrics.Middleware())
	}
	e.Use(bodyLimit(opts.MaxRequestBytes, opts.OwnBodyLimitPrefixes))
	return e
}

// The CORS header values, shared by every response: assigning a prebuilt
// slice saves three allocations per request over Header.Set. Nothing appends
// to them in place (a len-1, cap-1 slice is copied on append).
var (
	corsOrigin  = []string{"*"}
	corsMethods = []string{"GET, POST, PUT, DELETE, OPTIONS"}
	corsHeaders = []string{"X-Requested-With, Content-Type, Authorization"}
)

// cors answers preflight requests for every path and sets the headers the
// spec requires on every response (client-server-api, "Web Browser Clients").
func cors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h["Access-Control-Allow-Origin"] = corsOrigin
		h["Access-Control-Allow-Methods"] = corsMethods
		h["Access-Control-Allow-Headers"] = corsHeaders
		if c.Request().Method == http.MethodOptions {
			return c.NoContent(http.StatusOK)
		}
		return next(c)
	}
}

// cleanURL refuses a request whose path or query carries a NUL character or
// invalid UTF-8 (after percent-decoding). No Matrix identifier, event type,
// token or media name contains either, and PostgreSQL text cannot hold them:
// refusing them here gives one clear 400 instead of a driver error deep in
// some handler.
func cleanURL(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := c.Request().URL
		if !cleanText(u.Path) {
			return spec.InvalidParam("request path contains a NUL character or invalid UTF-8")
		}
		if strings.IndexByte(u.RawQuery, '%') >= 0 {
			if q, err := url.QueryUnescape(u.RawQuery); err == nil && !cleanText(q) {
				return spec.InvalidParam("query string contains a NUL character or invalid UTF-8")
			}
		}
		return next(c)
	}
}

func cleanText(s string) bool {
	return strings.IndexByte(s, 0) < 0 && utf8.ValidString(s)
}

// accessLog writes one line per request. The query string is left out: it
// may carry an access_token. It runs on every request, so it builds typed
// attributes (no boxing) and skips the work when the level is off.
func accessLog(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			logRequest(log, c, start)
			return nil
		}
	}
}

// logRequest is accessLog's line, kept out of the middleware's frame: that
// frame sits under every parked /sync long-poll, and the slog attributes
// would make it 0x2a0 bytes (a parked stack must stay under a quarter of
// its size to shrink at GC).
//
//go:noinline
func logRequest(log *slog.Logger, c echo.Context, start time.Time) {
	req := c.Request()
	status := c.Response().Status
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	ctx := req.Context()
	if !log.Enabled(ctx, level) {
		return
	}
	log.LogAttrs(ctx, level, "request",
		slog.String("method", req.Method), slog.String("path", req.URL.Path),
		slog.Int("status", status),
		slog.Float64("took_ms", float64(time.Since(start).Microseconds())/1000),
		slog.String("ip", c.RealIP()), slog.Int64("bytes_out", c.Response().Size))
}

// bodyLimit refuses bodies over max bytes, up front when Content-Length says
// so and while reading otherwise.
func bodyLimit(max int64, own []string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if max <= 0 {
				return next(c)
			}
			req := c.Request()
			for _, p := range own {
				if strings.HasPrefix(req.URL.Path, p) {
					return next(c)
				}
			}
			if req.Body == nil || req.Body == http.NoBody {
				return next(c) // nothing to limit (a GET, usually)
			}
			if req.ContentLength > max {
				return spec.TooLarge("request body is larger than %d bytes", max)
			}
			req.Body = http.MaxBytesReader(c.Response(), req.Body, max)
			return next(c)
		}
	}
}

// ErrorHandler writes every error as a Matrix error body. Routing errors
// become M_UNRECOGNIZED (404 for an unknown path, 405 for a known path with
// the wrong method); unknown errors become 500 M_UNKNOWN and are logged, never
// shown.
func ErrorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		merr := ToMatrix(err)
		if merr.Status >= 500 {
			log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
		}
		if merr.Code == spec.ErrLimitExceeded && merr.RetryAfterMs > 0 {
			c.Response().Header().Set("Retry-After", retryAfterSeconds(merr.RetryAfterMs))
		}
		var werr error
		if c.Request().Method == http.MethodHead {
			werr = c.NoContent(merr.Status)
		} else {
			werr = c.JSON(merr.Status, merr.Body())
		}
		if werr != nil {
			log.Debug("write error response", "err", werr)
		}
	}
}

// ToMatrix converts any error into the Matrix error the client should see.
func ToMatrix(err error) *spec.Error {
	var merr *spec.Error
	if errors.As(err, &merr) {
		return merr
	}
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return spec.TooLarge("request body is larger than %d bytes", maxErr.Limit)
	}
	var herr *echo.HTTPError
	if errors.As(err, &herr) {
		switch herr.Code {
		case http.StatusNotFound:
			return spec.Unrecognized(http.StatusNotFound, "unrecognized request")
		case http.StatusMethodNotAllowed:
			return spec.Unrecognized(http.StatusMethodNotAllowed, "method not allowed on this path")
		case http.StatusRequestEntityTooLarge:
			return spec.TooLarge("request body too large")
		case http.StatusUnauthorized:
			return spec.MissingToken("missing access token")
		}
		if herr.Code < 500 {
			return spec.NewError(herr.Code, spec.ErrUnknown, "%s", strings.ToLower(http.StatusText(herr.Code)))
		}
	}
	return spec.Unknown("internal server error")
}

func retryAfterSeconds(ms int64) string {
	s := (ms + 999) / 1000
	if s < 1 {
		s = 1
	}
	return itoa(s)
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	for n >= 10 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	i--
	b[i] = byte('0' + n)
	return string(b[i:])
}
