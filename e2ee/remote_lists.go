package e2ee

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// RemoteDevices is a remote server's answer to GET /user/devices/{userId}
// (server-server-api "Device Management"), reduced to what resync needs.
type RemoteDevices struct {
	UserID   string `json:"user_id"`
	StreamID int64  `json:"stream_id"`
	Devices  []struct {
		DeviceID    string          `json:"device_id"`
		DisplayName string          `json:"device_display_name"`
		Keys        json.RawMessage `json:"keys"`
	} `json:"devices"`
	MasterKey      json.RawMessage `json:"master_key"`
	SelfSigningKey json.RawMessage `json:"self_signing_key"`
}

// resyncTimeout bounds one /user/devices request.
const resyncTimeout = 30 * time.Second

// ReceiveDeviceListUpdate applies an inbound m.device_list_update EDU
// (server-server-api "Device Management"). The update drops the user's
// cached keys (remote_cache.go), records a device-list change that wakes our
// users sharing an encrypted room with the sender, and the stream_id is
// tracked to detect gaps: when
// none of prev_id is the last stream_id we saw, updates were lost and the
// whole list is resynced through GET /user/devices/{userId}.
func (s *Service) ReceiveDeviceListUpdate(ctx context.Context, origin spec.ServerName, raw json.RawMessage) error {
	var edu deviceListUpdate
	if err := json.Unmarshal(raw, &edu); err != nil {
		return spec.BadJSON("m.device_list_update: %v", err)
	}
	if serverOf(edu.UserID) != origin || edu.DeviceID == "" {
		return spec.Forbidden("m.device_list_update for %q does not come from its server %s", edu.UserID, origin)
	}
	known, err := s.st.RemoteDeviceList(ctx, edu.UserID)
	tracked := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if tracked && !known.Stale && edu.StreamID <= known.StreamID {
		return nil // a repeat of an update already applied
	}
	gap := tracked && (known.Stale || (len(edu.PrevID) > 0 && !slices.Contains(edu.PrevID, known.StreamID)))
	next := models.RemoteDeviceList{UserID: edu.UserID, StreamID: edu.StreamID, Stale: gap}
	if err := s.st.PutRemoteDeviceList(ctx, next); err != nil {
		return err
	}
	if err := s.st.DeleteRemoteKeyCache(ctx, edu.UserID); err != nil {
		return err
	}
	if err := s.recordChange(ctx, edu.UserID, []string{edu.DeviceID}, edu.Deleted); err != nil {
		return err
	}
	if gap {
		s.queueResync(edu.UserID)
	}
	return nil
}

// ReceiveSigningKeyUpdate applies an inbound m.signing_key_update EDU
// (server-server-api "Cross-signing"): the user's master or self-signing key
// changed, so our users sharing an encrypted room must query it again.
func (s *Service) ReceiveSigningKeyUpdate(ctx context.Context, origin spec.ServerName, raw json.RawMessage) error {
	var edu struct {
		UserID         string          `json:"user_id"`
		MasterKey      json.RawMessage `json:"master_key"`
		SelfSigningKey json.RawMessage `json:"self_signing_key"`
	}
	if err := json.Unmarshal(raw, &edu); err != nil {
		return spec.BadJSON("m.signing_key_update: %v", err)
	}
	if serverOf(edu.UserID) != origin {
		return spec.Forbidden("m.signing_key_update for %q does not come from its server %s", edu.UserID, origin)
	}
	if len(edu.MasterKey) == 0 && len(edu.SelfSigningKey) == 0 {
		return spec.BadJSON("m.signing_key_update without keys")
	}
	if err := s.st.DeleteRemoteKeyCache(ctx, edu.UserID); err != nil {
		return err
	}
	return s.recordChange(ctx, edu.UserID, nil, false)
}

// resyncUser fetches a remote user's whole device list, caches its keys,
// and records every device as changed, so our users' clients query the
// keys again.
func (s *Service) resyncUser(ctx context.Context, userID string) error {
	ctx, cancel := context.WithTimeout(ctx, resyncTimeout)
	defer cancel()
	res, err := s.opts.Remote.UserDevices(ctx, serverOf(userID), userID)
	if err != nil {
		return err
	}
	if res.UserID != userID {
		return spec.BadJSON("/user/devices answered for %q", res.UserID)
	}
	if err := s.cacheUserDevices(ctx, res); err != nil {
		return err
	}
	if err := s.st.PutRemoteDeviceList(ctx, models.RemoteDeviceList{UserID: userID, StreamID: res.StreamID}); err != nil {
		return err
	}
	ids := make([]string, 0, len(res.Devices))
	for _, d := range res.Devices {
		if d.DeviceID != "" {
			ids = append(ids, d.DeviceID)
		}
	}
	return s.recordChange(ctx, userID, ids, false)
}
