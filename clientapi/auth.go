package clientapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/clientapi/authn"
	"github.com/kabarchat/kabar/models/spec"
)

// Limiter is the rate-limit hook: Allow reports whether one more action by
// key (the client address) may proceed now, and if not, when to retry.
// Login and registration call it; nil means no limit.
type Limiter interface {
	Allow(key string) (ok bool, retryAfter time.Duration)
}

// limit applies l to the client's address: 429 M_LIMIT_EXCEEDED with
// retry_after_ms (client-server-api "Rate limiting").
func limit(c echo.Context, l Limiter) error {
	if l == nil {
		return nil
	}
	if ok, wait := l.Allow(c.RealIP()); !ok {
		return spec.LimitExceeded(max((wait + time.Millisecond - 1).Milliseconds(), 1))
	}
	return nil
}

const sessionKey = "kabar.session"

// requireAuth resolves the access token (client-server-api "Using access
// tokens": the Authorization: Bearer header, or the deprecated access_token
// query parameter) and stores the session on the context.
func (a *API) requireAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := a.authenticate(c); err != nil {
			return err
		}
		return next(c)
	}
}

// authenticate puts the request's session in the context. It is kept out
// of requireAuth's frame, which sits under every parked /sync long-poll
// (see clientsync.Syncer.Sync on parked stack size).
//
//go:noinline
func (a *API) authenticate(c echo.Context) error {
	token, err := accessToken(c.Request())
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	sess, reg, err := a.opts.Accounts.AuthenticateAppService(ctx, token, c.QueryParam("user_id"))
	if reg == nil && err == nil {
		sess, err = a.opts.Accounts.Authenticate(ctx, token)
	}
	if err != nil {
		return err
	}
	if reg != nil {
		if sess.DeviceID, err = a.appServiceDevice(c, sess.UserID); err != nil {
			return err
		}
		c.Set(appServiceKey, reg)
	}
	c.Set(sessionKey, sess)
	return nil
}

func accessToken(r *http.Request) (string, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			return "", spec.MissingToken("Authorization header must be \"Bearer <token>\"")
		}
		return strings.TrimSpace(token), nil
	}
	if t := r.URL.Query().Get("access_token"); t != "" {
		return t, nil
	}
	return "", spec.MissingToken("missing access token")
}

// session is the authenticated caller; only valid behind requireAuth.
func session(c echo.Context) authn.Session {
	s, _ := c.Get(sessionKey).(authn.Session)
	return s
}

// pathUser parses the {userId} path parameter.
func pathUser(c echo.Context) (spec.UserID, error) {
	raw := c.Param("userId")
	id, err := spec.ParseUserID(raw)
	if err != nil {
		return "", spec.InvalidParam("invalid user ID %q", raw)
	}
	return id, nil
}

// runUIA runs one UIA step. done is false when the 401 challenge has been
// written and the handler must stop.
func (a *API) runUIA(c echo.Context, req authn.UIARequest) (done bool, err error) {
	err = a.opts.Accounts.UIA(c.Request().Context(), req)
	if ch, ok := err.(*authn.Challenge); ok {
		return false, c.JSON(http.StatusUnauthorized, ch.Body())
	}
	return err == nil, err
}

// passwordFlows are the UIA flows for an authenticated user's sensitive
// actions. NOTSPEC: an account without a password (made by JWT login) has
// no stage it could complete, so it is offered m.login.dummy: holding the
// access token is its only credential anyway.
func (a *API) passwordFlows(c echo.Context, userID string) ([][]string, error) {
	has, err := a.opts.Accounts.HasPassword(c.Request().Context(), userID)
	if err != nil {
		return nil, err
	}
	if !has {
		return [][]string{{authn.StageDummy}}, nil
	}
	return [][]string{{authn.StagePassword}}, nil
}

// passwordUIA runs one UIA step of a signed-in user's sensitive action
// (client-server-api "User-Interactive Authentication API") with the
// passwordFlows. done is false when the handler must stop: err is then the
// failure, or nil when the 401 challenge has been written.
func (a *API) passwordUIA(c echo.Context, purpose string, auth json.RawMessage) (done bool, err error) {
	userID := session(c).UserID
	flows, err := a.passwordFlows(c, userID)
	if err != nil {
		return false, err
	}
	return a.runUIA(c, authn.UIARequest{Purpose: purpose, UserID: userID, Flows: flows, Auth: auth})
}
