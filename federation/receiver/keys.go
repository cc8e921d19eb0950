package receiver

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/models/spec"
)

// serverKeys is GET /_matrix/key/v2/server ("Publishing Keys").
func (r *Receiver) serverKeys(c echo.Context) error {
	body, err := r.opts.Ring.Own()
	if err != nil {
		return err
	}
	return c.JSONBlob(http.StatusOK, body)
}

// keyQuery is the body of POST /_matrix/key/v2/query.
type keyQuery struct {
	ServerKeys map[string]map[string]struct {
		MinimumValidUntilTS int64 `json:"minimum_valid_until_ts"`
	} `json:"server_keys"`
}

// queryKeysPost is POST /_matrix/key/v2/query: we act as a notary.
func (r *Receiver) queryKeysPost(c echo.Context) error {
	var q keyQuery
	if err := echoserver.BindJSON(c, &q); err != nil {
		return err
	}
	if q.ServerKeys == nil {
		return spec.MissingParam("server_keys is required")
	}
	if len(q.ServerKeys) > 100 {
		return spec.InvalidParam("at most 100 servers per query")
	}
	query := map[string]map[string]int64{}
	for server, ids := range q.ServerKeys {
		query[server] = map[string]int64{}
		for id, crit := range ids {
			query[server][id] = crit.MinimumValidUntilTS
		}
	}
	return r.notaryAnswer(c, query)
}

// queryKeysGet is GET /_matrix/key/v2/query/{serverName}.
func (r *Receiver) queryKeysGet(c echo.Context) error {
	server := c.Param("serverName")
	if _, err := spec.ParseServerName(server); err != nil {
		return spec.InvalidParam("bad server name: %v", err)
	}
	var minValid int64
	if v := c.QueryParam("minimum_valid_until_ts"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return spec.InvalidParam("minimum_valid_until_ts must be an integer")
		}
		minValid = n
	}
	// An empty key ID map asks for all keys; "" carries the minimum.
	return r.notaryAnswer(c, map[string]map[string]int64{server: {"": minValid}})
}

func (r *Receiver) notaryAnswer(c echo.Context, query map[string]map[string]int64) error {
	for server := range query {
		if _, err := spec.ParseServerName(server); err != nil {
			return spec.InvalidParam("bad server name %q", server)
		}
	}
	resps := r.opts.Ring.NotaryQuery(c.Request().Context(), query)
	return c.JSON(http.StatusOK, map[string][]json.RawMessage{"server_keys": resps})
}

// version is GET /_matrix/federation/v1/version.
func (r *Receiver) version(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"server": map[string]string{"name": "Kabar", "version": r.opts.Version}})
}
