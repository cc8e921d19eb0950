package xmatrix

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/models/spec"
)

// originKey is where the middleware leaves the authenticated origin.
const originKey = "xmatrix.origin"

// Origin returns the server that signed the request (after Middleware).
func Origin(c echo.Context) spec.ServerName {
	s, _ := c.Get(originKey).(string)
	return spec.ServerName(s)
}

// MiddlewareOptions configures Middleware.
type MiddlewareOptions struct {
	// ServerName is ours: requests for another destination are refused.
	ServerName string
	Keys       KeyFunc
	// MaxBody bounds the body read for verification.
	MaxBody int64
	// OnOrigin, if set, is told each authenticated origin (the sender uses
	// it to retry a peer that just showed it is up).
	OnOrigin func(origin string)
	Logger   *slog.Logger
}

// Middleware authenticates every request with its X-Matrix header and
// answers 401 M_UNAUTHORIZED when it is missing, malformed, signed by an
// unknown key, wrongly signed, or meant for another server.
func Middleware(opts MiddlewareOptions) echo.MiddlewareFunc {
	if opts.MaxBody <= 0 {
		opts.MaxBody = 10 << 20
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			header := req.Header.Get("Authorization")
			if header == "" {
				return spec.NewError(http.StatusUnauthorized, spec.ErrUnauthorized, "missing X-Matrix authorization")
			}
			body, err := io.ReadAll(io.LimitReader(req.Body, opts.MaxBody+1))
			if err != nil {
				return spec.BadJSON("read request body: %v", err)
			}
			if int64(len(body)) > opts.MaxBody {
				return spec.TooLarge("request body over %d bytes", opts.MaxBody)
			}
			req.Body = io.NopCloser(bytes.NewReader(body))
			// The signed uri is the request target exactly as sent.
			uri := req.RequestURI
			if uri == "" {
				uri = req.URL.RequestURI()
			}
			origin, err := Verify(req.Context(), header, opts.ServerName, req.Method, uri, body, opts.Keys, time.Now().UnixMilli())
			if err != nil {
				opts.Logger.Info("federation request refused", "path", req.URL.Path, "err", err)
				return spec.NewError(http.StatusUnauthorized, spec.ErrUnauthorized, "invalid X-Matrix authorization")
			}
			c.Set(originKey, origin)
			if opts.OnOrigin != nil {
				opts.OnOrigin(origin)
			}
			return next(c)
		}
	}
}
