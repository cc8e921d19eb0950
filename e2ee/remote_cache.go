package e2ee

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// The remote key cache (server-server-api "End-to-End Encryption": servers
// should cache the device keys of remote users). A cached answer is
// trusted only while we receive the user's m.device_list_update EDUs: the
// user's device list is tracked and not stale. Any update, signing-key
// update or stale mark drops the row; RemoteCacheTTL bounds its age in case
// we stopped sharing a room with the user and so stopped hearing updates.

// fromCache moves the users of req whose keys are cached and fresh into
// out, and returns the users still to ask for.
func (s *Service) fromCache(ctx context.Context, req map[string][]string, out *QueryResponse) (map[string][]string, error) {
	users := make([]string, 0, len(req))
	for u := range req {
		users = append(users, u)
	}
	rows, err := s.st.RemoteKeyCaches(ctx, users)
	if err != nil {
		return nil, err
	}
	rest := map[string][]string{}
	for u, d := range req {
		rest[u] = d
	}
	minTime := s.opts.Now().Add(-s.opts.RemoteCacheTTL).UnixMilli()
	for _, r := range rows {
		if r.FetchedAt < minTime || !s.tracking(ctx, r.UserID) {
			continue
		}
		var devices map[string]json.RawMessage
		if err := json.Unmarshal([]byte(r.DeviceKeys), &devices); err != nil {
			continue // unreadable cache: ask the server
		}
		out.DeviceKeys[r.UserID] = pickDevices(devices, req[r.UserID])
		if r.MasterKey != "" {
			out.MasterKeys[r.UserID] = json.RawMessage(r.MasterKey)
		}
		if r.SelfSigningKey != "" {
			out.SelfSigningKeys[r.UserID] = json.RawMessage(r.SelfSigningKey)
		}
		delete(rest, r.UserID)
	}
	return rest, nil
}

// tracking reports whether we follow the user's device-list updates and
// have missed none.
func (s *Service) tracking(ctx context.Context, userID string) bool {
	l, err := s.st.RemoteDeviceList(ctx, userID)
	return err == nil && !l.Stale
}

// pickDevices narrows a user's devices to the requested ones (none: all).
func pickDevices(all map[string]json.RawMessage, want []string) map[string]json.RawMessage {
	if len(want) == 0 {
		return all
	}
	out := map[string]json.RawMessage{}
	for _, d := range want {
		if k, ok := all[d]; ok {
			out[d] = k
		}
	}
	return out
}

// listVersion is what a cache write is checked against: the answer is
// stored only if no update arrived while the request was in flight.
func (s *Service) listVersion(ctx context.Context, userID string) (models.RemoteDeviceList, bool) {
	l, err := s.st.RemoteDeviceList(ctx, userID)
	return l, err == nil && !l.Stale
}

// cacheQueryAnswer stores a remote server's /user/keys/query answer for
// the users asked for all devices whose lists are tracked and unchanged
// since before (their list versions when the request started).
func (s *Service) cacheQueryAnswer(ctx context.Context, srv spec.ServerName, asked map[string][]string,
	before map[string]models.RemoteDeviceList, res *QueryResponse) {
	for u, devices := range asked {
		prev, ok := before[u]
		if !ok || len(devices) > 0 || serverOf(u) != srv {
			continue
		}
		if now, ok := s.listVersion(ctx, u); !ok || now.StreamID != prev.StreamID {
			continue
		}
		if err := s.putCache(ctx, u, res.DeviceKeys[u], res.MasterKeys[u], res.SelfSigningKeys[u]); err != nil {
			s.log.Warn("cache remote keys", "user", u, "err", err)
		}
	}
}

// cacheUserDevices caches a /user/devices answer (resync), adding each
// device's display name as /user/keys/query does.
func (s *Service) cacheUserDevices(ctx context.Context, res *RemoteDevices) error {
	devices := map[string]json.RawMessage{}
	for _, d := range res.Devices {
		if d.DeviceID == "" || len(d.Keys) == 0 || string(d.Keys) == "null" {
			continue
		}
		var obj map[string]any
		if err := json.Unmarshal(d.Keys, &obj); err != nil {
			return spec.BadJSON("/user/devices: keys of %s: %v", d.DeviceID, err)
		}
		if d.DisplayName != "" {
			obj["unsigned"] = map[string]any{"device_display_name": d.DisplayName}
		}
		b, err := json.Marshal(obj)
		if err != nil {
			return wrap("encode device keys", err)
		}
		devices[d.DeviceID] = b
	}
	return s.putCache(ctx, res.UserID, devices, res.MasterKey, res.SelfSigningKey)
}

func (s *Service) putCache(ctx context.Context, userID string, devices map[string]json.RawMessage, master, ssk json.RawMessage) error {
	if devices == nil {
		devices = map[string]json.RawMessage{}
	}
	b, err := json.Marshal(devices)
	if err != nil {
		return wrap("encode cached device keys", err)
	}
	row := models.RemoteKeyCache{UserID: userID, DeviceKeys: string(b), FetchedAt: s.opts.Now().UnixMilli()}
	if len(master) > 0 && string(master) != "null" {
		row.MasterKey = string(master)
	}
	if len(ssk) > 0 && string(ssk) != "null" {
		row.SelfSigningKey = string(ssk)
	}
	return s.st.PutRemoteKeyCache(ctx, row)
}

// markStale flags a remote user's device list for resync and drops its
// cached keys (a gap, or a joiner we know nothing about).
func (s *Service) markStale(ctx context.Context, userID string) error {
	l, err := s.st.RemoteDeviceList(ctx, userID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	l.UserID, l.Stale = userID, true
	if err := s.st.PutRemoteDeviceList(ctx, l); err != nil {
		return err
	}
	if err := s.st.DeleteRemoteKeyCache(ctx, userID); err != nil {
		return err
	}
	s.queueResync(userID)
	return nil
}
