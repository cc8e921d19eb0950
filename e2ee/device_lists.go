package e2ee

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
)

// recordChange appends one device-list stream entry per device of a user,
// wakes the users who track that list (the user and everyone sharing an
// encrypted room), and, for our own users, queues m.device_list_update EDUs.
func (s *Service) recordChange(ctx context.Context, userID string, deviceIDs []string, deleted bool) error {
	if len(deviceIDs) == 0 {
		deviceIDs = []string{""}
	}
	r := s.deviceLists.Reserve(len(deviceIDs))
	rows := make([]models.DeviceListChange, len(deviceIDs))
	for i, d := range deviceIDs {
		rows[i] = models.DeviceListChange{StreamPos: r.First + int64(i), UserID: userID, DeviceID: d}
	}
	err := s.st.AddDeviceListChanges(ctx, rows)
	r.Done()
	if err != nil {
		return err
	}
	peers, err := s.st.EncryptedPeers(ctx, userID)
	if err != nil {
		return err
	}
	s.opts.Notifier.Wake(append(peers, userID)...)
	if s.isLocal(userID) {
		s.sendDeviceListUpdates(ctx, userID, rows, deleted)
	}
	return nil
}

// DevicesChanged is called by the accounts code after devices were renamed
// or deleted (deviceIDs nil: "some devices of this user were deleted"). Keys
// of devices that no longer exist are dropped, and each affected device that
// had identity keys gets a device-list entry (client-server-api "Tracking
// the device list for a user": removing a device with keys is a change).
func (s *Service) DevicesChanged(ctx context.Context, userID string, deviceIDs []string) error {
	keyed, err := s.st.DeviceKeysOf(ctx, userID, deviceIDs)
	if err != nil || (len(keyed) == 0 && deviceIDs == nil) {
		return err
	}
	live, err := s.st.ListDevices(ctx, userID)
	if err != nil {
		return err
	}
	exists := func(id string) bool {
		return slices.ContainsFunc(live, func(d models.Device) bool { return d.DeviceID == id })
	}
	var gone, changed, changedGone []string
	for _, id := range deviceIDs {
		if !exists(id) {
			gone = append(gone, id)
		}
	}
	for _, k := range keyed {
		if exists(k.DeviceID) {
			changed = append(changed, k.DeviceID)
		} else {
			changedGone = append(changedGone, k.DeviceID)
			if !slices.Contains(gone, k.DeviceID) {
				gone = append(gone, k.DeviceID)
			}
		}
	}
	if len(gone) > 0 {
		if err := s.st.DeleteDeviceKeysOf(ctx, userID, gone); err != nil {
			return err
		}
	}
	if len(changed) > 0 {
		if err := s.recordChange(ctx, userID, changed, false); err != nil {
			return err
		}
	}
	if len(changedGone) > 0 {
		return s.recordChange(ctx, userID, changedGone, true)
	}
	return nil
}

// deviceListUpdate is the m.device_list_update EDU content
// (server-server-api "Device Management").
type deviceListUpdate struct {
	UserID            string          `json:"user_id"`
	DeviceID          string          `json:"device_id"`
	DeviceDisplayName string          `json:"device_display_name,omitempty"`
	StreamID          int64           `json:"stream_id"`
	PrevID            []int64         `json:"prev_id"`
	Deleted           bool            `json:"deleted,omitempty"`
	Keys              json.RawMessage `json:"keys,omitempty"`
}

// sendDeviceListUpdates queues one EDU per changed device for every server
// sharing a room with the user; prev_id chains each update to the user's
// previous stream_id so receivers detect gaps and resync via /user/devices
// (server-server-api "Device Management").
func (s *Service) sendDeviceListUpdates(ctx context.Context, userID string, rows []models.DeviceListChange, deleted bool) {
	dests, err := s.remoteServersSharing(ctx, userID)
	if err != nil || len(dests) == 0 {
		if err != nil {
			s.log.Warn("device list update: find destinations", "user", userID, "err", err)
		}
		return
	}
	// rows hold one reserved, contiguous block of positions, so only the
	// first row's predecessor needs a query: each later row follows the
	// row before it.
	if len(rows) == 0 {
		return
	}
	prev, err := s.st.LatestDeviceListPos(ctx, userID, rows[0].StreamPos)
	if err != nil {
		s.log.Warn("device list update: read prev_id", "user", userID, "err", err)
		return
	}
	for i, row := range rows {
		if i > 0 {
			prev = rows[i-1].StreamPos
		}
		prevID := []int64{}
		if prev > 0 {
			prevID = []int64{prev}
		}
		edu := s.deviceUpdate(ctx, userID, row.DeviceID, row.StreamPos, prevID, deleted)
		s.sendEDU(ctx, "m.device_list_update", edu, dests)
	}
}

// deviceUpdate builds the m.device_list_update of one device, with its
// current keys and display name unless it was deleted.
func (s *Service) deviceUpdate(ctx context.Context, userID, deviceID string, streamID int64, prev []int64, deleted bool) deviceListUpdate {
	edu := deviceListUpdate{UserID: userID, DeviceID: deviceID, StreamID: streamID, PrevID: prev, Deleted: deleted}
	if deleted {
		return edu
	}
	if keys, err := s.st.DeviceKeysOf(ctx, userID, []string{deviceID}); err == nil && len(keys) == 1 {
		edu.Keys = json.RawMessage(keys[0].KeyJSON)
	}
	if d, err := s.st.GetDevice(ctx, userID, deviceID); err == nil {
		edu.DeviceDisplayName = d.DisplayName
	}
	return edu
}

// remoteServersSharing lists the other servers with a member in a room the
// user is joined to.
func (s *Service) remoteServersSharing(ctx context.Context, userID string) ([]spec.ServerName, error) {
	users, err := s.st.UsersSharingRoomWith(ctx, userID)
	if err != nil {
		return nil, err
	}
	var out []spec.ServerName
	for _, u := range users {
		if srv := serverOf(u); srv != "" && srv != s.opts.ServerName && !slices.Contains(out, srv) {
			out = append(out, srv)
		}
	}
	return out, nil
}

// sendEDU marshals and queues an EDU; failures are logged, the local change
// stands (remote servers resync on the next prev_id gap).
func (s *Service) sendEDU(ctx context.Context, typ string, content any, dests []spec.ServerName) {
	b, err := json.Marshal(content)
	if err == nil {
		err = s.opts.Outbox.SendEDU(ctx, typ, b, dests)
	}
	if err != nil {
		s.log.Warn("queue EDU", "type", typ, "err", err)
	}
}

// UserDevices answers federation GET /user/devices/{userId} for a local
// user: every device with its keys, the current stream_id, and the
// user's master and self-signing keys.
func (s *Service) UserDevices(ctx context.Context, userID string) (map[string]any, error) {
	devices, err := s.st.ListDevices(ctx, userID)
	if err != nil {
		return nil, err
	}
	q, err := s.QueryLocalKeys(ctx, map[string][]string{userID: nil})
	if err != nil {
		return nil, err
	}
	list := []map[string]any{}
	for _, d := range devices {
		entry := map[string]any{"device_id": d.DeviceID}
		if d.DisplayName != "" {
			entry["device_display_name"] = d.DisplayName
		}
		if k, ok := q.DeviceKeys[userID][d.DeviceID]; ok {
			entry["keys"] = k
		}
		list = append(list, entry)
	}
	streamID, err := s.st.LatestDeviceListPos(ctx, userID, 1<<62)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"user_id": userID, "stream_id": streamID, "devices": list}
	if k, ok := q.MasterKeys[userID]; ok {
		out["master_key"] = k
	}
	if k, ok := q.SelfSigningKeys[userID]; ok {
		out["self_signing_key"] = k
	}
	return out, nil
}
