package store

import (
	"context"

	"gorm.io/gorm/clause"

	"github.com/kabarchat/kabar/models"
)

// JoinEventsIn returns the join events of every room with event stream
// positions in (from, to], oldest first (RoomID, UserID, EventPos set): a
// join decides which servers hear a user's device list updates
// (server-server-api "Device Management").
func (s *Store) JoinEventsIn(ctx context.Context, from, to int64) ([]models.DeviceListChange, error) {
	var out []models.DeviceListChange
	err := s.q(ctx).Table("events").
		Select("room_id, state_key AS user_id, membership, stream_pos AS event_pos").
		Where("type = ? AND membership = ? AND stream_pos > ? AND stream_pos <= ? AND NOT rejected AND NOT soft_failed",
			"m.room.member", "join", from, to).
		Order("stream_pos").Scan(&out).Error
	return out, mapErr("read join events", err)
}

// UsersSharingOtherRooms returns the users joined to a room the user is
// joined to, not counting the room except.
func (s *Store) UsersSharingOtherRooms(ctx context.Context, userID, except string) ([]string, error) {
	var users []string
	err := s.q(ctx).Table("current_state AS me").Distinct().
		Joins("JOIN current_state AS peer ON peer.room_id = me.room_id AND peer.type = ? AND peer.membership = ?", "m.room.member", "join").
		Where("me.type = ? AND me.state_key = ? AND me.membership = ? AND me.room_id <> ?", "m.room.member", userID, "join", except).
		Pluck("peer.state_key", &users).Error
	return users, mapErr("list users sharing other rooms with "+userID, err)
}

// StaleRemoteDeviceLists returns up to limit remote users whose device
// lists are marked stale (for the resync worker's retries).
func (s *Store) StaleRemoteDeviceLists(ctx context.Context, limit int) ([]string, error) {
	var users []string
	err := s.q(ctx).Model(&models.RemoteDeviceList{}).Where("stale").Order("user_id").Limit(limit).Pluck("user_id", &users).Error
	return users, mapErr("list stale remote device lists", err)
}

// RemoteKeyCaches returns the cached keys of the given remote users that
// are cached (missing users are absent).
func (s *Store) RemoteKeyCaches(ctx context.Context, userIDs []string) ([]models.RemoteKeyCache, error) {
	var rows []models.RemoteKeyCache
	if len(userIDs) == 0 {
		return rows, nil
	}
	err := s.q(ctx).Where("user_id IN ?", userIDs).Find(&rows).Error
	return rows, mapErr("read remote key cache", err)
}

// PutRemoteKeyCache stores (or replaces) a remote user's cached keys.
func (s *Store) PutRemoteKeyCache(ctx context.Context, r models.RemoteKeyCache) error {
	return mapErr("store remote key cache", s.q(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "user_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"device_keys", "master_key", "self_signing_key", "fetched_at"}),
	}).Create(&r).Error)
}

// DeleteRemoteKeyCache drops a remote user's cached keys.
func (s *Store) DeleteRemoteKeyCache(ctx context.Context, userID string) error {
	return mapErr("drop remote key cache of "+userID,
		s.q(ctx).Where("user_id = ?", userID).Delete(&models.RemoteKeyCache{}).Error)
}

// DevicePositions returns, per device of a user, the newest device-list
// stream position of that device.
func (s *Store) DevicePositions(ctx context.Context, userID string) (map[string]int64, error) {
	var rows []struct {
		DeviceID string
		Pos      int64
	}
	err := s.q(ctx).Model(&models.DeviceListChange{}).Select("device_id, MAX(stream_pos) AS pos").
		Where("user_id = ? AND room_id = '' AND device_id <> ''", userID).Group("device_id").Scan(&rows).Error
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.DeviceID] = r.Pos
	}
	return out, mapErr("read device positions of "+userID, err)
}
