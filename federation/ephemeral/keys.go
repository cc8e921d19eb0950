package ephemeral

import (
	"context"
	"encoding/json"
	"net/url"

	"github.com/kabarchat/kabar/e2ee"
	"github.com/kabarchat/kabar/models/spec"
)

// Doer sends one signed federation request (the federation client).
type Doer interface {
	Do(ctx context.Context, destination spec.ServerName, method, path string, body, out any) error
}

// KeyClient asks other servers for their users' keys; it implements the
// key server's e2ee.Remote. The caller's context bounds each request, and
// any error puts the server into the client's "failures".
type KeyClient struct{ Client Doer }

// QueryKeys is POST /_matrix/federation/v1/user/keys/query
// (server-server-api "End-to-End Encryption").
func (k KeyClient) QueryKeys(ctx context.Context, server spec.ServerName, deviceKeys map[string][]string) (*e2ee.QueryResponse, error) {
	req := map[string]map[string][]string{"device_keys": nonNilLists(deviceKeys)}
	var res e2ee.QueryResponse
	if err := k.Client.Do(ctx, server, "POST", "/_matrix/federation/v1/user/keys/query", req, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// ClaimKeys is POST /_matrix/federation/v1/user/keys/claim.
func (k KeyClient) ClaimKeys(ctx context.Context, server spec.ServerName, oneTimeKeys map[string]map[string]string) (map[string]map[string]map[string]json.RawMessage, error) {
	req := map[string]any{"one_time_keys": oneTimeKeys}
	var res struct {
		OneTimeKeys map[string]map[string]map[string]json.RawMessage `json:"one_time_keys"`
	}
	if err := k.Client.Do(ctx, server, "POST", "/_matrix/federation/v1/user/keys/claim", req, &res); err != nil {
		return nil, err
	}
	if res.OneTimeKeys == nil {
		res.OneTimeKeys = map[string]map[string]map[string]json.RawMessage{}
	}
	return res.OneTimeKeys, nil
}

// UserDevices is GET /_matrix/federation/v1/user/devices/{userId}.
func (k KeyClient) UserDevices(ctx context.Context, server spec.ServerName, userID string) (*e2ee.RemoteDevices, error) {
	var res e2ee.RemoteDevices
	path := "/_matrix/federation/v1/user/devices/" + url.PathEscape(userID)
	if err := k.Client.Do(ctx, server, "GET", path, nil, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// nonNilLists sends [] rather than null for "all devices of this user", as
// the spec's request schema has arrays.
func nonNilLists(in map[string][]string) map[string][]string {
	out := make(map[string][]string, len(in))
	for u, d := range in {
		if d == nil {
			d = []string{}
		}
		out[u] = d
	}
	return out
}
