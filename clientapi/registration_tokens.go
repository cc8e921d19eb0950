package clientapi

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
)

// Registration tokens with use limits and expiry, managed through Synapse's
// admin API /_synapse/admin/v1/registration_tokens (NOTSPEC: the spec only
// defines the m.login.registration_token stage and the validity check,
// client-server-api "Token-authenticated registration", which accept these
// tokens too).

// RegistrationTokenStore stores the tokens; *store.Store satisfies it.
type RegistrationTokenStore interface {
	CreateRegistrationToken(ctx context.Context, t *models.RegistrationToken) error
	GetRegistrationToken(ctx context.Context, token string) (*models.RegistrationToken, error)
	ListRegistrationTokens(ctx context.Context, valid *bool, nowMs int64) ([]models.RegistrationToken, error)
	UpdateRegistrationToken(ctx context.Context, token string, set map[string]any) (*models.RegistrationToken, error)
	DeleteRegistrationToken(ctx context.Context, token string) error
}

// tokenAlphabet is what a token may contain (the spec's token grammar:
// [A-Za-z0-9._~-], at most 64 characters).
const (
	tokenAlphabet  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-"
	maxTokenLength = 64
)

type registrationTokenJSON struct {
	Token       string `json:"token"`
	UsesAllowed *int64 `json:"uses_allowed"`
	Pending     int64  `json:"pending"`
	Completed   int64  `json:"completed"`
	ExpiryTime  *int64 `json:"expiry_time"`
}

func tokenJSON(t *models.RegistrationToken) registrationTokenJSON {
	return registrationTokenJSON{Token: t.Token, UsesAllowed: t.UsesAllowed, Pending: t.Pending,
		Completed: t.Completed, ExpiryTime: t.ExpiryTime}
}

func (a *API) registerTokenAdmin(g *adminGroup) {
	g.GET("/registration_tokens", a.listRegistrationTokens)
	g.POST("/registration_tokens/new", a.newRegistrationToken)
	g.GET("/registration_tokens/:token", a.getRegistrationToken)
	g.PUT("/registration_tokens/:token", a.updateRegistrationToken)
	g.DELETE("/registration_tokens/:token", a.deleteRegistrationToken)
	// A token may be called "new": its other methods are spelled out so the
	// static POST route does not shadow them (and stay 405-free).
	named := func(h echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.SetParamNames("token")
			c.SetParamValues("new")
			return h(c)
		}
	}
	g.GET("/registration_tokens/new", named(a.getRegistrationToken))
	g.PUT("/registration_tokens/new", named(a.updateRegistrationToken))
	g.DELETE("/registration_tokens/new", named(a.deleteRegistrationToken))
}

// GET /_synapse/admin/v1/registration_tokens[?valid=true|false]
func (a *API) listRegistrationTokens(c echo.Context) error {
	var valid *bool
	if c.QueryParam("valid") != "" {
		v, err := boolParam(c, "valid", false)
		if err != nil {
			return err
		}
		valid = &v
	}
	ts, err := a.opts.Admin.Store.ListRegistrationTokens(c.Request().Context(), valid, time.Now().UnixMilli())
	if err != nil {
		return err
	}
	out := make([]registrationTokenJSON, len(ts))
	for i := range ts {
		out[i] = tokenJSON(&ts[i])
	}
	return ok(c, map[string]any{"registration_tokens": out})
}

type newTokenRequest struct {
	Token       *string         `json:"token"`
	UsesAllowed json.RawMessage `json:"uses_allowed"`
	ExpiryTime  json.RawMessage `json:"expiry_time"`
	Length      json.RawMessage `json:"length"`
}

// POST /_synapse/admin/v1/registration_tokens/new
func (a *API) newRegistrationToken(c echo.Context) error {
	var req newTokenRequest
	if err := echoserver.BindJSON(c, &req); err != nil {
		return err
	}
	uses, err := nonNegativeInt(req.UsesAllowed, "uses_allowed")
	if err != nil {
		return err
	}
	expiry, err := futureTime(req.ExpiryTime)
	if err != nil {
		return err
	}
	t := &models.RegistrationToken{UsesAllowed: uses, ExpiryTime: expiry}
	if req.Token != nil {
		if !validToken(*req.Token) {
			return spec.InvalidParam("token must be 1-64 characters of A-Z a-z 0-9 . _ ~ -")
		}
		t.Token = *req.Token
	} else if t.Token, err = randomToken(req.Length); err != nil {
		return err
	}
	err = a.opts.Admin.Store.CreateRegistrationToken(c.Request().Context(), t)
	if errors.Is(err, models.ErrConflict) {
		return spec.InvalidParam("token already exists")
	}
	if err != nil {
		return err
	}
	return ok(c, tokenJSON(t))
}

// GET /_synapse/admin/v1/registration_tokens/{token}
func (a *API) getRegistrationToken(c echo.Context) error {
	tok := c.Param("token")
	t, err := a.opts.Admin.Store.GetRegistrationToken(c.Request().Context(), tok)
	if err != nil {
		return tokenNotFound(err)
	}
	return ok(c, tokenJSON(t))
}

// PUT /_synapse/admin/v1/registration_tokens/{token}: uses_allowed and
// expiry_time; null removes the limit.
func (a *API) updateRegistrationToken(c echo.Context) error {
	tok := c.Param("token")
	var req newTokenRequest
	err := echoserver.BindJSON(c, &req)
	if err != nil {
		return err
	}
	set := map[string]any{}
	if req.UsesAllowed != nil {
		if set["uses_allowed"], err = nonNegativeInt(req.UsesAllowed, "uses_allowed"); err != nil {
			return err
		}
	}
	if req.ExpiryTime != nil {
		if set["expiry_time"], err = futureTime(req.ExpiryTime); err != nil {
			return err
		}
	}
	t, err := a.opts.Admin.Store.UpdateRegistrationToken(c.Request().Context(), tok, set)
	if err != nil {
		return tokenNotFound(err)
	}
	return ok(c, tokenJSON(t))
}

// DELETE /_synapse/admin/v1/registration_tokens/{token}
func (a *API) deleteRegistrationToken(c echo.Context) error {
	tok := c.Param("token")
	if err := a.opts.Admin.Store.DeleteRegistrationToken(c.Request().Context(), tok); err != nil {
		return tokenNotFound(err)
	}
	return ok(c, struct{}{})
}

func tokenNotFound(err error) error {
	if errors.Is(err, models.ErrNotFound) {
		return spec.NotFound("no such registration token")
	}
	return err
}

func validToken(t string) bool {
	if t == "" || len(t) > maxTokenLength {
		return false
	}
	for i := 0; i < len(t); i++ {
		if !containsByte(tokenAlphabet, t[i]) {
			return false
		}
	}
	return true
}

func containsByte(s string, b byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return true
		}
	}
	return false
}

// randomToken makes a token of the requested length (default 16).
func randomToken(rawLength json.RawMessage) (string, error) {
	n := int64(16)
	if rawLength != nil {
		l, err := nonNegativeInt(rawLength, "length")
		if err != nil || l == nil || *l < 1 || *l > maxTokenLength {
			return "", spec.InvalidParam("length must be an integer from 1 to %d", maxTokenLength)
		}
		n = *l
	}
	out := make([]byte, n)
	for i := range out {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(tokenAlphabet))))
		if err != nil {
			return "", err
		}
		out[i] = tokenAlphabet[k.Int64()]
	}
	return string(out), nil
}

// nonNegativeInt parses an optional integer field; null or absent is nil.
func nonNegativeInt(raw json.RawMessage, name string) (*int64, error) {
	if raw == nil || string(raw) == "null" {
		return nil, nil
	}
	var v int64
	if err := json.Unmarshal(raw, &v); err != nil || v < 0 {
		return nil, spec.InvalidParam("%s must be a non-negative integer or null", name)
	}
	return &v, nil
}

// futureTime parses an optional expiry_time (ms since the epoch) that must
// not have passed.
func futureTime(raw json.RawMessage) (*int64, error) {
	v, err := nonNegativeInt(raw, "expiry_time")
	if err != nil {
		return nil, err
	}
	if v != nil && *v < time.Now().UnixMilli() {
		return nil, spec.NewError(http.StatusBadRequest, spec.ErrInvalidParam, "expiry_time must not be in the past")
	}
	return v, nil
}
