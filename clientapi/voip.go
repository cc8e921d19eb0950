package clientapi

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

// VoIPOptions configures the TURN credentials handed to callers
// (client-server-api "Voice over IP", voip.yaml).
type VoIPOptions struct {
	// URIs are turn:/turns: URIs; empty means no TURN server.
	URIs []string
	// SharedSecret is coturn's static-auth-secret. When set, each caller
	// gets time-limited credentials (the TURN REST API coturn implements):
	// username "<expiry unix seconds>:<user ID>", password
	// base64(HMAC-SHA1(secret, username)).
	SharedSecret string
	// Username and Password are fixed credentials used without a secret.
	Username string
	Password string
	// TTL is how long shared-secret credentials are valid.
	TTL time.Duration
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

type turnServerResponse struct {
	Username string   `json:"username"`
	Password string   `json:"password"`
	URIs     []string `json:"uris"`
	TTL      int64    `json:"ttl"`
}

// GET /voip/turnServer (voip.yaml).
func (a *API) turnServer(c echo.Context) error {
	v := a.opts.VoIP
	if len(v.URIs) == 0 {
		// NOTSPEC: voip.yaml only describes the 200 with credentials. With
		// no TURN server configured we answer {} like Synapse does, which
		// clients (matrix-js-sdk, mautrix) read as "no TURN server" rather
		// than an error to retry.
		return ok(c, struct{}{})
	}
	return ok(c, turnCredentials(v, session(c).UserID))
}

// turnCredentials makes the credentials for one user.
func turnCredentials(v VoIPOptions, userID string) turnServerResponse {
	ttl := v.TTL
	if ttl <= 0 {
		ttl = 24 * time.Hour
	}
	if v.SharedSecret == "" {
		return turnServerResponse{Username: v.Username, Password: v.Password, URIs: v.URIs,
			TTL: int64(ttl / time.Second)}
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	user := strconv.FormatInt(now().Add(ttl).Unix(), 10) + ":" + userID
	mac := hmac.New(sha1.New, []byte(v.SharedSecret))
	mac.Write([]byte(user))
	return turnServerResponse{Username: user, Password: base64.StdEncoding.EncodeToString(mac.Sum(nil)),
		URIs: v.URIs, TTL: int64(ttl / time.Second)}
}
