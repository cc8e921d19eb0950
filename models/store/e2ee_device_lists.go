package store

import (
	"context"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/kabarchat/kabar/models"
)

// AddDeviceListChanges records device-list changes (one row per user and
// position).
func (s *Store) AddDeviceListChanges(ctx context.Context, rows []models.DeviceListChange) error {
	if len(rows) == 0 {
		return nil
	}
	return mapErr("record device list changes",
		s.q(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&rows).Error)
}

// DeviceListChangesIn returns the device-list stream rows in (from, to]
// that can concern userID: device changes of userID or of users sharing an
// encrypted room with it, and joins/departures in encrypted rooms userID
// is joined to or that are its own (client-server-api "Tracking the device
// list for a user").
func (s *Store) DeviceListChangesIn(ctx context.Context, userID string, from, to int64) ([]models.DeviceListChange, error) {
	var rows []models.DeviceListChange
	mine := s.q(ctx).Model(&models.CurrentState{}).Select("room_id").
		Where("type = ? AND state_key = ? AND membership = ?", "m.room.member", userID, "join")
	err := s.q(ctx).Where("stream_pos > ? AND stream_pos <= ?", from, to).
		Where("user_id = ? OR (room_id = '' AND user_id IN (?)) OR room_id IN (?)", userID, s.encryptedPeers(ctx, userID), mine).
		Order("stream_pos").Find(&rows).Error
	return rows, mapErr("read device list changes", err)
}

// encryptedPeers is the subquery of users joined to an encrypted room the
// user is joined to.
func (s *Store) encryptedPeers(ctx context.Context, userID string) *gorm.DB {
	return s.q(ctx).Table("current_state AS me").
		Select("peer.state_key").
		Joins("JOIN current_state AS enc ON enc.room_id = me.room_id AND enc.type = ? AND enc.state_key = ''", "m.room.encryption").
		Joins("JOIN current_state AS peer ON peer.room_id = me.room_id AND peer.type = ? AND peer.membership = ?", "m.room.member", "join").
		Where("me.type = ? AND me.state_key = ? AND me.membership = ?", "m.room.member", userID, "join")
}

// EncryptedPeers returns the users (including userID itself when it is in
// any encrypted room) sharing an encrypted room with userID.
func (s *Store) EncryptedPeers(ctx context.Context, userID string) ([]string, error) {
	var users []string
	err := s.encryptedPeers(ctx, userID).Distinct().Pluck("peer.state_key", &users).Error
	return users, mapErr("list users sharing encrypted rooms with "+userID, err)
}

// UsersSharingRoomWith returns the users joined to a room the user is joined
// to; their servers are the destinations of its m.device_list_update EDUs.
func (s *Store) UsersSharingRoomWith(ctx context.Context, userID string) ([]string, error) {
	var users []string
	err := s.q(ctx).Table("current_state AS me").Distinct().
		Joins("JOIN current_state AS peer ON peer.room_id = me.room_id AND peer.type = ? AND peer.membership = ?", "m.room.member", "join").
		Where("me.type = ? AND me.state_key = ? AND me.membership = ?", "m.room.member", userID, "join").
		Pluck("peer.state_key", &users).Error
	return users, mapErr("list users sharing rooms with "+userID, err)
}

// EncryptedMembershipEvents returns the membership events in encrypted
// rooms with event stream positions in (from, to], oldest first.
func (s *Store) EncryptedMembershipEvents(ctx context.Context, from, to int64) ([]models.DeviceListChange, error) {
	var out []models.DeviceListChange
	err := s.q(ctx).Table("events AS e").
		Select("e.room_id AS room_id, e.state_key AS user_id, e.membership AS membership, e.stream_pos AS event_pos").
		Joins("JOIN current_state AS enc ON enc.room_id = e.room_id AND enc.type = ? AND enc.state_key = ''", "m.room.encryption").
		Where("e.type = ? AND e.stream_pos > ? AND e.stream_pos <= ? AND NOT e.rejected AND NOT e.soft_failed", "m.room.member", from, to).
		Order("e.stream_pos").Scan(&out).Error
	return out, mapErr("read membership changes in encrypted rooms", err)
}

// LastMembershipEventPos is the event position of the newest recorded
// membership row (0 if none): where the membership watcher resumes.
func (s *Store) LastMembershipEventPos(ctx context.Context) (int64, error) {
	var p int64
	err := s.q(ctx).Model(&models.DeviceListChange{}).Select("COALESCE(MAX(event_pos), 0)").Scan(&p).Error
	return p, mapErr("read membership watermark", err)
}

// LatestDeviceListPos returns the newest device-list position of a user
// below before (0 if none): the prev_id of the next m.device_list_update.
func (s *Store) LatestDeviceListPos(ctx context.Context, userID string, before int64) (int64, error) {
	var pos int64
	err := s.q(ctx).Model(&models.DeviceListChange{}).Select("COALESCE(MAX(stream_pos), 0)").
		Where("user_id = ? AND room_id = '' AND stream_pos < ?", userID, before).Scan(&pos).Error
	return pos, mapErr("read device list position of "+userID, err)
}

// DeviceListStreamEnd and ToDeviceStreamEnd are the highest positions of
// the two e2ee streams, where their allocators continue.
func (s *Store) DeviceListStreamEnd(ctx context.Context) (int64, error) {
	var p int64
	err := s.q(ctx).Model(&models.DeviceListChange{}).Select("COALESCE(MAX(stream_pos), 0)").Scan(&p).Error
	return p, mapErr("read device list stream end", err)
}

func (s *Store) ToDeviceStreamEnd(ctx context.Context) (int64, error) {
	var a, b int64
	if err := s.q(ctx).Model(&models.ToDeviceMessage{}).Select("COALESCE(MAX(stream_pos), 0)").Scan(&a).Error; err != nil {
		return 0, mapErr("read to-device stream end", err)
	}
	err := s.q(ctx).Model(&models.ToDeviceTxn{}).Select("COALESCE(MAX(stream_pos), 0)").Scan(&b).Error
	return max(a, b), mapErr("read to-device stream end", err)
}

// RemoteDeviceList returns what we know of a remote user's device list;
// ErrNotFound if we never tracked it.
func (s *Store) RemoteDeviceList(ctx context.Context, userID string) (models.RemoteDeviceList, error) {
	var r models.RemoteDeviceList
	err := s.q(ctx).Where("user_id = ?", userID).Take(&r).Error
	return r, mapErr("remote device list of "+userID, err)
}

// PutRemoteDeviceList records the stream_id reached for a remote user.
func (s *Store) PutRemoteDeviceList(ctx context.Context, r models.RemoteDeviceList) error {
	return mapErr("store remote device list state", s.q(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "user_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"stream_id", "stale"}),
	}).Create(&r).Error)
}
