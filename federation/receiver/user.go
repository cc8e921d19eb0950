package receiver

import (
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/models/spec"
)

// registerUser mounts the key endpoints other servers' clients reach
// through their homeservers (server-server-api "Device Management" and
// "End-to-End Encryption"). Without a key server they are not served.
func (r *Receiver) registerUser(g routes) {
	if r.opts.Keys == nil {
		return
	}
	g.GET("/v1/user/devices/:userId", r.userDevices)
	g.POST("/v1/user/keys/query", r.userKeysQuery)
	g.POST("/v1/user/keys/claim", r.userKeysClaim)
}

// localUser parses {userId} and requires it to be one of ours.
func (r *Receiver) localUser(c echo.Context) (spec.UserID, error) {
	raw := c.Param("userId") // decoded once by echoserver.UnescapeParams
	u, err := spec.ParseUserID(raw)
	if err != nil {
		return "", spec.InvalidParam("malformed user ID")
	}
	if u.Server() != r.opts.ServerName {
		// NOTSPEC: the spec lists no error; 400 as other servers answer.
		return "", spec.InvalidParam("user %s is not hosted on this server", raw)
	}
	return u, nil
}

// userDevices serves GET /v1/user/devices/{userId}: the user's devices with
// keys and the stream_id that later m.device_list_update EDUs chain from.
// An unknown local user has no devices.
func (r *Receiver) userDevices(c echo.Context) error {
	u, err := r.localUser(c)
	if err != nil {
		return err
	}
	res, err := r.opts.Keys.UserDevices(c.Request().Context(), string(u))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

// userKeysQuery serves POST /v1/user/keys/query for our users; users of
// other servers are left out of the answer.
func (r *Receiver) userKeysQuery(c echo.Context) error {
	var body struct {
		DeviceKeys *map[string][]string `json:"device_keys"`
	}
	if err := echoserver.BindJSON(c, &body); err != nil {
		return err
	}
	if body.DeviceKeys == nil {
		return spec.BadJSON("device_keys is required")
	}
	res, err := r.opts.Keys.QueryLocalKeys(c.Request().Context(), *body.DeviceKeys)
	if err != nil {
		return err
	}
	// The federation answer has no failures and no user-signing keys.
	out := map[string]any{"device_keys": res.DeviceKeys}
	if len(res.MasterKeys) > 0 {
		out["master_keys"] = res.MasterKeys
	}
	if len(res.SelfSigningKeys) > 0 {
		out["self_signing_keys"] = res.SelfSigningKeys
	}
	return c.JSON(http.StatusOK, out)
}

// userKeysClaim serves POST /v1/user/keys/claim: a one-time key per
// requested device, or its fallback key; devices without keys are absent.
func (r *Receiver) userKeysClaim(c echo.Context) error {
	var body struct {
		OneTimeKeys *map[string]map[string]string `json:"one_time_keys"`
	}
	if err := echoserver.BindJSON(c, &body); err != nil {
		return err
	}
	if body.OneTimeKeys == nil {
		return spec.BadJSON("one_time_keys is required")
	}
	keys, err := r.opts.Keys.ClaimLocalKeys(c.Request().Context(), *body.OneTimeKeys)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"one_time_keys": nonNil(keys)})
}

func nonNil(m map[string]map[string]map[string]json.RawMessage) map[string]map[string]map[string]json.RawMessage {
	if m == nil {
		return map[string]map[string]map[string]json.RawMessage{}
	}
	return m
}
