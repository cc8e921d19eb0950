package e2ee

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/kabarchat/kabar/federation/canonicaljson"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// QueryResponse is the body of POST /keys/query (and, without
// user_signing_keys, of federation /user/keys/query).
type QueryResponse struct {
	Failures        map[string]any                        `json:"failures"`
	DeviceKeys      map[string]map[string]json.RawMessage `json:"device_keys"`
	MasterKeys      map[string]json.RawMessage            `json:"master_keys,omitempty"`
	SelfSigningKeys map[string]json.RawMessage            `json:"self_signing_keys,omitempty"`
	UserSigningKeys map[string]json.RawMessage            `json:"user_signing_keys,omitempty"`
}

func newQueryResponse() *QueryResponse {
	return &QueryResponse{Failures: map[string]any{}, DeviceKeys: map[string]map[string]json.RawMessage{},
		MasterKeys: map[string]json.RawMessage{}, SelfSigningKeys: map[string]json.RawMessage{},
		UserSigningKeys: map[string]json.RawMessage{}}
}

// DefaultRemoteTimeout is the spec's recommended wait for remote servers.
const DefaultRemoteTimeout = 10 * time.Second

// QueryKeys answers POST /keys/query for requester: local users from the
// store, remote users from their servers in parallel (each unreachable
// server listed in failures).
func (s *Service) QueryKeys(ctx context.Context, requester string, req map[string][]string, timeout time.Duration) (*QueryResponse, error) {
	local, remote := map[string][]string{}, map[spec.ServerName]map[string][]string{}
	for user, devices := range req {
		if _, err := spec.ParseUserID(user); err != nil {
			continue // unknown users are simply missing from the result
		}
		if s.isLocal(user) {
			local[user] = devices
			continue
		}
		srv := serverOf(user)
		if remote[srv] == nil {
			remote[srv] = map[string][]string{}
		}
		remote[srv][user] = devices
	}
	out, err := s.queryLocal(ctx, requester, local)
	if err != nil {
		return nil, err
	}
	s.queryRemote(ctx, remote, timeout, out)
	return out, nil
}

// QueryLocalKeys answers federation /user/keys/query for our users: the
// remote requester sees self-signatures only and no user-signing keys.
func (s *Service) QueryLocalKeys(ctx context.Context, req map[string][]string) (*QueryResponse, error) {
	mine := map[string][]string{}
	for user, devices := range req {
		if s.isLocal(user) {
			mine[user] = devices
		}
	}
	out, err := s.queryLocal(ctx, "", mine)
	if err != nil {
		return nil, err
	}
	out.UserSigningKeys = nil
	out.Failures = nil
	return out, nil
}

// queryLocal reads the keys of our users in three queries for the whole
// request (device keys with display names, signatures, cross-signing
// keys), whatever the number of users.
func (s *Service) queryLocal(ctx context.Context, requester string, req map[string][]string) (*QueryResponse, error) {
	out := newQueryResponse()
	if len(req) == 0 {
		return out, nil
	}
	users := slices.Sorted(maps.Keys(req))
	sigs, err := s.st.SignaturesOnUsers(ctx, users, requester)
	if err != nil {
		return nil, err
	}
	byKey := map[string]map[string][]models.CrossSigningSignature{}
	for user, list := range sigs {
		m := map[string][]models.CrossSigningSignature{}
		for _, sg := range list {
			m[sg.TargetKeyID] = append(m[sg.TargetKeyID], sg)
		}
		byKey[user] = m
	}
	if err := s.addDeviceKeys(ctx, out, users, req, byKey); err != nil {
		return nil, err
	}
	csks, err := s.st.CrossSigningKeysOfUsers(ctx, users)
	if err != nil {
		return nil, err
	}
	for user, csk := range csks {
		for typ, k := range csk {
			merged, err := mergeKey(k.KeyJSON, byKey[user][k.PublicKey], nil)
			if err != nil {
				return nil, err
			}
			switch {
			case typ == "master":
				out.MasterKeys[user] = merged
			case typ == "self_signing":
				out.SelfSigningKeys[user] = merged
			case typ == "user_signing" && user == requester:
				out.UserSigningKeys[user] = merged
			}
		}
	}
	return out, nil
}

// addDeviceKeys adds local users' device keys with display names: those of
// the devices req lists per user, all of them when it lists none. Keys of
// a deleted device linger only until cleanup and are left out by the store.
func (s *Service) addDeviceKeys(ctx context.Context, out *QueryResponse, users []string, req map[string][]string, sigs map[string]map[string][]models.CrossSigningSignature) error {
	rows, err := s.st.LiveDeviceKeysOf(ctx, users)
	if err != nil {
		return err
	}
	for _, u := range users {
		out.DeviceKeys[u] = map[string]json.RawMessage{}
	}
	for _, r := range rows {
		if want := req[r.UserID]; len(want) > 0 && !slices.Contains(want, r.DeviceID) {
			continue
		}
		var unsigned map[string]any
		if r.DisplayName != "" {
			unsigned = map[string]any{"device_display_name": r.DisplayName}
		}
		merged, err := mergeKey(r.KeyJSON, sigs[r.UserID][r.DeviceID], unsigned)
		if err != nil {
			return err
		}
		out.DeviceKeys[r.UserID][r.DeviceID] = merged
	}
	return nil
}

// mergeKey adds uploaded signatures and an unsigned section to a stored key.
func mergeKey(keyJSON string, sigs []models.CrossSigningSignature, unsigned map[string]any) (json.RawMessage, error) {
	if len(sigs) == 0 && unsigned == nil {
		return json.RawMessage(keyJSON), nil
	}
	tree, err := canonicaljson.Decode([]byte(keyJSON))
	if err != nil {
		return nil, wrap("decode stored key", err)
	}
	obj, _ := tree.(map[string]any)
	all, _ := obj["signatures"].(map[string]any)
	if all == nil {
		all = map[string]any{}
	}
	for _, sg := range sigs {
		bySigner, _ := all[sg.SignerUserID].(map[string]any)
		if bySigner == nil {
			bySigner = map[string]any{}
			all[sg.SignerUserID] = bySigner
		}
		bySigner[sg.SignerKeyID] = sg.Signature
	}
	obj["signatures"] = all
	if unsigned != nil {
		obj["unsigned"] = unsigned
	}
	b, err := canonicaljson.Encode(obj)
	return b, wrap("encode key", err)
}

// queryRemote answers remote users from the key cache where it is fresh
// (remote_cache.go) and asks each server for the rest concurrently,
// bounded by timeout.
func (s *Service) queryRemote(ctx context.Context, remote map[spec.ServerName]map[string][]string, timeout time.Duration, out *QueryResponse) {
	for srv, users := range remote {
		rest, err := s.fromCache(ctx, users, out)
		if err != nil {
			s.log.Warn("read remote key cache", "server", srv, "err", err)
			continue
		}
		if len(rest) == 0 {
			delete(remote, srv)
		} else {
			remote[srv] = rest
		}
	}
	if len(remote) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for srv, users := range remote {
		wg.Go(func() {
			before := map[string]models.RemoteDeviceList{}
			for u := range users {
				if l, ok := s.listVersion(ctx, u); ok {
					before[u] = l
				}
			}
			res, err := s.opts.Remote.QueryKeys(ctx, srv, users)
			if err == nil && res != nil {
				s.cacheQueryAnswer(ctx, srv, users, before, res)
			}
			mu.Lock()
			defer mu.Unlock()
			mergeRemote(out, srv, res, err)
		})
	}
	wg.Wait()
}

// mergeRemote adds one server's answer (only its own users) to out, or
// lists the server in failures.
func mergeRemote(out *QueryResponse, srv spec.ServerName, res *QueryResponse, err error) {
	if err != nil || res == nil {
		out.Failures[string(srv)] = map[string]any{}
		return
	}
	for u, d := range res.DeviceKeys {
		if serverOf(u) == srv {
			out.DeviceKeys[u] = d
		}
	}
	for u, k := range res.MasterKeys {
		if serverOf(u) == srv {
			out.MasterKeys[u] = k
		}
	}
	for u, k := range res.SelfSigningKeys {
		if serverOf(u) == srv {
			out.SelfSigningKeys[u] = k
		}
	}
}

// ClaimResponse is the body of POST /keys/claim.
type ClaimResponse struct {
	Failures    map[string]any                                   `json:"failures"`
	OneTimeKeys map[string]map[string]map[string]json.RawMessage `json:"one_time_keys"`
}

// ClaimKeys answers POST /keys/claim: local devices from the store (one-time
// key first, then the fallback key), remote ones from their servers.
// Unknown users or devices, and devices with no key left, are absent.
func (s *Service) ClaimKeys(ctx context.Context, req map[string]map[string]string, timeout time.Duration) (*ClaimResponse, error) {
	out := &ClaimResponse{Failures: map[string]any{}}
	local, remote := map[string]map[string]string{}, map[spec.ServerName]map[string]map[string]string{}
	for user, devices := range req {
		if s.isLocal(user) {
			local[user] = devices
		} else if srv := serverOf(user); srv != "" {
			if remote[srv] == nil {
				remote[srv] = map[string]map[string]string{}
			}
			remote[srv][user] = devices
		}
	}
	var err error
	if out.OneTimeKeys, err = s.ClaimLocalKeys(ctx, local); err != nil {
		return nil, err
	}
	s.claimRemote(ctx, remote, timeout, out)
	return out, nil
}

// ClaimLocalKeys claims keys of our own users' devices (also federation
// /user/keys/claim).
func (s *Service) ClaimLocalKeys(ctx context.Context, req map[string]map[string]string) (map[string]map[string]map[string]json.RawMessage, error) {
	out := map[string]map[string]map[string]json.RawMessage{}
	for user, devices := range req {
		if !s.isLocal(user) {
			continue
		}
		for device, alg := range devices {
			keyID, key, err := s.st.ClaimOneTimeKey(ctx, user, device, alg)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if out[user] == nil {
				out[user] = map[string]map[string]json.RawMessage{}
			}
			out[user][device] = map[string]json.RawMessage{keyID: json.RawMessage(key)}
		}
	}
	return out, nil
}

func (s *Service) claimRemote(ctx context.Context, remote map[spec.ServerName]map[string]map[string]string, timeout time.Duration, out *ClaimResponse) {
	if len(remote) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for srv, users := range remote {
		wg.Go(func() {
			res, err := s.opts.Remote.ClaimKeys(ctx, srv, users)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				out.Failures[string(srv)] = map[string]any{}
				return
			}
			for u, d := range res {
				if serverOf(u) == srv {
					out.OneTimeKeys[u] = d
				}
			}
		})
	}
	wg.Wait()
}
