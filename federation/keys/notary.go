package keys

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"maps"
	"time"
)

// ownValidity is how long our published key response stays valid.
const ownValidity = 24 * time.Hour

// Own is our signed GET /_matrix/key/v2/server response.
func (r *Ring) Own() ([]byte, error) {
	return Publish(r.opts.ServerName, r.opts.Key, r.opts.Old, r.opts.Now(), ownValidity)
}

// NotaryQuery answers /_matrix/key/v2/query as a notary ("Querying Keys
// Through Another Server"): for each server, the key responses we hold (or
// fetch, when ours are older than minimum_valid_until_ts or missing),
// countersigned by us. Key IDs only decide whether to refetch: the whole
// response is returned. Servers we cannot reach are left out.
//
// query maps server name -> key ID -> minimum_valid_until_ts; an empty key
// ID carries a minimum that applies to all keys (GET's query parameter).
func (r *Ring) NotaryQuery(ctx context.Context, query map[string]map[string]int64) []json.RawMessage {
	out := []json.RawMessage{}
	for server, keyIDs := range query {
		keyIDs = maps.Clone(keyIDs)
		if server == r.opts.ServerName {
			if own, err := r.Own(); err == nil {
				out = append(out, own)
			}
			continue
		}
		var minValid int64
		for _, ts := range keyIDs {
			minValid = max(minValid, ts)
		}
		delete(keyIDs, "")
		for _, resp := range r.responses(ctx, server, keyIDs, minValid) {
			signed, err := r.opts.Key.SignJSON([]byte(resp), r.opts.ServerName)
			if err == nil {
				out = append(out, signed)
			}
		}
	}
	return out
}

// responses returns the distinct stored responses of server, fetching anew
// when a requested key is missing or nothing is valid long enough.
func (r *Ring) responses(ctx context.Context, server string, keyIDs map[string]int64, minValid int64) []string {
	fresh := func() ([]string, bool) {
		rows, err := r.opts.Store.ServerKeys(ctx, server)
		if err != nil {
			return nil, false
		}
		seen, have := map[string]bool{}, map[string]bool{}
		var resps []string
		ok := len(rows) > 0
		for _, k := range rows {
			have[k.KeyID] = true
			if k.ExpiredTS == 0 && k.ValidUntilTS < minValid {
				ok = false
			}
			if k.Response != "" && !seen[k.Response] {
				seen[k.Response] = true
				resps = append(resps, k.Response)
			}
		}
		for id := range keyIDs {
			ok = ok && have[id]
		}
		return resps, ok
	}
	resps, ok := fresh()
	if ok {
		return resps
	}
	if err := r.fetch(ctx, server); err != nil {
		return resps // serve what we have: the requester judges validity
	}
	resps, _ = fresh()
	return resps
}

// KeyID is our current key's ID (for co-signing events).
func (r *Ring) KeyID() string { return r.opts.Key.ID }

// PrivateKey is our current private key (for co-signing events); never log it.
func (r *Ring) PrivateKey() ed25519.PrivateKey { return r.opts.Key.PrivateKey() }
