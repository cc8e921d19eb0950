package clientapi

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/clientapi/authn"
	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/models/spec"
)

// Shared-secret registration, compatible with Synapse's
// /_synapse/admin/v1/register so operators' tooling (register_new_matrix_user
// and friends) works. NOTSPEC: not part of the Matrix spec.

const (
	nonceTTL       = time.Minute
	maxLiveNonces  = 1000
	userTypeSep    = "\x00"
	macAdmin       = "admin"
	macNotAdmin    = "notadmin"
	maxSharedField = 512
)

// nonces are single-use and expire after a minute; the map is bounded.
type nonces struct {
	mu  sync.Mutex
	m   map[string]time.Time
	now func() time.Time
}

func (n *nonces) issue() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	now := n.now()
	for k, exp := range n.m {
		if now.After(exp) || len(n.m) >= maxLiveNonces {
			delete(n.m, k)
		}
	}
	var b [16]byte
	rand.Read(b[:])
	nonce := hex.EncodeToString(b[:])
	n.m[nonce] = now.Add(nonceTTL)
	return nonce
}

// consume removes the nonce and reports whether it was live.
func (n *nonces) consume(nonce string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	exp, ok := n.m[nonce]
	delete(n.m, nonce)
	return ok && !n.now().After(exp)
}

// GET /_synapse/admin/v1/register
func (a *API) sharedSecretNonce(c echo.Context) error {
	return ok(c, map[string]string{"nonce": a.nonces.issue()})
}

type sharedSecretRequest struct {
	Nonce       string `json:"nonce"`
	Username    string `json:"username"`
	DisplayName string `json:"displayname"`
	Password    string `json:"password"`
	Admin       bool   `json:"admin"`
	UserType    string `json:"user_type"`
	MAC         string `json:"mac"`
}

// POST /_synapse/admin/v1/register: mac is hex HMAC-SHA1 keyed by the
// shared secret over nonce NUL username NUL password NUL admin|notadmin
// [NUL user_type].
func (a *API) sharedSecretRegister(c echo.Context) error {
	if err := limit(c, a.opts.RegisterLimiter); err != nil {
		return err
	}
	var req sharedSecretRequest
	if err := echoserver.BindJSON(c, &req); err != nil {
		return err
	}
	if req.Nonce == "" || req.Username == "" || req.Password == "" || req.MAC == "" {
		return spec.BadJSON("nonce, username, password and mac are required")
	}
	if len(req.Password) > maxSharedField || len(req.UserType) > 64 {
		return spec.InvalidParam("password or user_type too long")
	}
	if !a.nonces.consume(req.Nonce) {
		return spec.NewError(http.StatusBadRequest, spec.ErrUnknown, "unrecognised nonce")
	}
	if !hmac.Equal([]byte(sharedSecretMAC(a.opts.RegistrationSharedSecret, req)), []byte(req.MAC)) {
		return spec.Forbidden("HMAC incorrect")
	}
	ctx := c.Request().Context()
	id, err := a.opts.Accounts.CreateAccount(ctx, authn.NewAccount{Localpart: req.Username, Password: req.Password,
		Admin: req.Admin, UserType: req.UserType, DisplayName: req.DisplayName})
	if err != nil {
		return err
	}
	res, err := a.opts.Accounts.StartSession(ctx, authn.LoginRequest{UserID: id, IP: c.RealIP()})
	if err != nil {
		return err
	}
	return ok(c, map[string]string{"user_id": string(id), "access_token": res.AccessToken,
		"device_id": res.DeviceID, "home_server": string(a.opts.ServerName)})
}

// sharedSecretMAC is the hex MAC a correct request carries.
func sharedSecretMAC(secret string, req sharedSecretRequest) string {
	m := hmac.New(sha1.New, []byte(secret))
	admin := macNotAdmin
	if req.Admin {
		admin = macAdmin
	}
	m.Write([]byte(req.Nonce + "\x00" + req.Username + "\x00" + req.Password + "\x00" + admin))
	if req.UserType != "" {
		m.Write([]byte(userTypeSep + req.UserType))
	}
	return hex.EncodeToString(m.Sum(nil))
}
