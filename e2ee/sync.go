package e2ee

import (
	"context"
	"encoding/json"
	"slices"
)

// SyncToDevice returns a device's to-device events in (since, upto] of the
// to-device stream, oldest first, at most limit of them (0: all). Syncing
// with since acknowledges every message at or before it, which is then
// deleted (send_to_device.md "Server behaviour": delivered at least once,
// removed after the client has seen them). next is where the batch ends:
// upto, or the last message's position when limit cut it short.
func (s *Service) SyncToDevice(ctx context.Context, userID, deviceID string, since, upto int64, limit int) (evs []json.RawMessage, next int64, err error) {
	if deviceID == "" {
		return nil, upto, nil
	}
	if since > 0 {
		if err := s.st.AckToDevice(ctx, userID, deviceID, since); err != nil {
			return nil, 0, err
		}
	}
	msgs, err := s.st.ToDeviceInbox(ctx, userID, deviceID, since, upto, limit)
	if err != nil {
		return nil, 0, err
	}
	next = upto
	if limit > 0 && len(msgs) == limit {
		next = msgs[len(msgs)-1].StreamPos
	}
	out := make([]json.RawMessage, 0, len(msgs))
	for _, m := range msgs {
		b, err := json.Marshal(ToDeviceEvent{Sender: m.Sender, Type: m.Type, Content: json.RawMessage(m.Content)})
		if err != nil {
			return nil, 0, wrap("encode to-device event", err)
		}
		out = append(out, b)
	}
	return out, next, nil
}

// DeviceListChanges returns the users whose device lists userID must
// refresh (changed) or may stop tracking (left) between two positions of
// the device-list stream (/sync device_lists and GET /keys/changes): users
// sharing an encrypted room whose devices changed, users who newly share
// one, and users who no longer share any (end_to_end_encryption.md
// "Tracking the device list for a user").
func (s *Service) DeviceListChanges(ctx context.Context, userID string, from, to int64) (changed, left []string, err error) {
	rows, err := s.st.DeviceListChangesIn(ctx, userID, from, to)
	if err != nil || len(rows) == 0 {
		return []string{}, []string{}, err
	}
	var gone []string
	for _, r := range rows {
		who := []string{r.UserID}
		if r.RoomID != "" && r.UserID == userID {
			// Our own join or departure concerns every member of the room.
			if who, err = s.st.MembersWith(ctx, r.RoomID, "join"); err != nil {
				return nil, nil, err
			}
		}
		if r.RoomID == "" || r.Membership == "join" {
			changed = append(changed, who...)
		} else {
			gone = append(gone, who...)
		}
	}
	peers, err := s.st.EncryptedPeers(ctx, userID)
	if err != nil {
		return nil, nil, err
	}
	changed = uniq(slices.DeleteFunc(changed, func(u string) bool { return u != userID && !slices.Contains(peers, u) }))
	left = uniq(slices.DeleteFunc(gone, func(u string) bool { return u == userID || slices.Contains(peers, u) }))
	return changed, left, nil
}

func uniq(xs []string) []string {
	slices.Sort(xs)
	xs = slices.Compact(xs)
	if xs == nil {
		return []string{}
	}
	return xs
}
