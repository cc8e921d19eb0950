package store

import (
	"context"
	"fmt"

	"github.com/kabarchat/kabar/models"
)

// Room loads one room. ErrNotFound if the server does not know it.
func (s *Store) Room(ctx context.Context, roomID string) (models.Room, error) {
	var r models.Room
	err := s.q(ctx).Where("room_id = ?", roomID).Take(&r).Error
	return r, mapErr("load room "+roomID, err)
}

// SetRoomPublic lists or unlists a room in the public room directory.
func (s *Store) SetRoomPublic(ctx context.Context, roomID string, public bool) error {
	res := s.q(ctx).Model(&models.Room{}).Where("room_id = ?", roomID).Update("is_public", public)
	if res.Error != nil {
		return mapErr("set visibility of "+roomID, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("set visibility of %s: %w", roomID, ErrNotFound)
	}
	return nil
}

// PublicRooms lists directory rooms ordered by room ID, after the given one.
func (s *Store) PublicRooms(ctx context.Context, after string, limit int) ([]models.Room, error) {
	var rooms []models.Room
	err := s.q(ctx).Where("is_public AND room_id > ?", after).Order("room_id").Limit(limit).Find(&rooms).Error
	return rooms, mapErr("list public rooms", err)
}

// CurrentStateRows returns the room's current state rows, optionally of one
// event type only ("" for all).
func (s *Store) CurrentStateRows(ctx context.Context, roomID, eventType string) ([]models.CurrentState, error) {
	q := s.q(ctx).Where("room_id = ?", roomID)
	if eventType != "" {
		q = q.Where("type = ?", eventType)
	}
	var rows []models.CurrentState
	err := q.Order("type, state_key").Find(&rows).Error
	return rows, mapErr("load current state of "+roomID, err)
}

// CurrentStateRow returns one (type, state_key) of the current state.
func (s *Store) CurrentStateRow(ctx context.Context, roomID, eventType, stateKey string) (models.CurrentState, error) {
	var row models.CurrentState
	err := s.q(ctx).Where("room_id = ? AND type = ? AND state_key = ?", roomID, eventType, stateKey).Take(&row).Error
	return row, mapErr(fmt.Sprintf("load state %s/%s of %s", eventType, stateKey, roomID), err)
}

// MembersWith returns the user IDs whose current membership in the room is
// the given one ("join", "invite", ...).
func (s *Store) MembersWith(ctx context.Context, roomID, membership string) ([]string, error) {
	var users []string
	err := s.q(ctx).Model(&models.CurrentState{}).
		Where("room_id = ? AND type = ? AND membership = ?", roomID, "m.room.member", membership).
		Order("state_key").Pluck("state_key", &users).Error
	return users, mapErr("list members of "+roomID, err)
}

// RoomsOfUser returns the rooms where the user's current membership is the
// given one (for /joined_rooms and /sync).
func (s *Store) RoomsOfUser(ctx context.Context, userID, membership string) ([]string, error) {
	var rooms []string
	err := s.q(ctx).Model(&models.CurrentState{}).
		Where("state_key = ? AND type = ? AND membership = ?", userID, "m.room.member", membership).
		Order("room_id").Pluck("room_id", &rooms).Error
	return rooms, mapErr("list rooms of "+userID, err)
}

// ForwardExtremities returns the room's forward extremities.
func (s *Store) ForwardExtremities(ctx context.Context, roomID string) ([]string, error) {
	var ids []string
	err := s.q(ctx).Model(&models.ForwardExtremity{}).Where("room_id = ?", roomID).
		Order("event_id").Pluck("event_id", &ids).Error
	return ids, mapErr("load forward extremities of "+roomID, err)
}

// TxnEvent returns the event a client transaction produced (scope names the
// endpoint), or ErrNotFound.
func (s *Store) TxnEvent(ctx context.Context, userID, deviceID, scope, txnID string) (string, error) {
	var row models.TxnID
	err := s.q(ctx).Where("user_id = ? AND device_id = ? AND scope = ? AND txn_id = ?",
		userID, deviceID, scope, txnID).Take(&row).Error
	return row.EventID, mapErr("look up transaction "+txnID, err)
}

// CreateAlias maps an alias to a room; ErrConflict if the alias is taken.
func (s *Store) CreateAlias(ctx context.Context, a models.RoomAlias) error {
	return mapErr("create alias "+a.Alias, s.q(ctx).Create(&a).Error)
}

// Alias resolves an alias. ErrNotFound if unknown.
func (s *Store) Alias(ctx context.Context, alias string) (models.RoomAlias, error) {
	var a models.RoomAlias
	err := s.q(ctx).Where("alias = ?", alias).Take(&a).Error
	return a, mapErr("resolve alias "+alias, err)
}

// DeleteAlias removes an alias. ErrNotFound if it did not exist.
func (s *Store) DeleteAlias(ctx context.Context, alias string) error {
	res := s.q(ctx).Where("alias = ?", alias).Delete(&models.RoomAlias{})
	if res.Error != nil {
		return mapErr("delete alias "+alias, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("delete alias %s: %w", alias, ErrNotFound)
	}
	return nil
}

// RoomAliases lists the local aliases of a room.
func (s *Store) RoomAliases(ctx context.Context, roomID string) ([]string, error) {
	var aliases []string
	err := s.q(ctx).Model(&models.RoomAlias{}).Where("room_id = ?", roomID).Order("alias").Pluck("alias", &aliases).Error
	return aliases, mapErr("list aliases of "+roomID, err)
}

// JoinedSince reports whether the user has a join membership event in the
// room after the given stream position (history visibility "shared": the
// user joined at some point after the event was sent).
func (s *Store) JoinedSince(ctx context.Context, roomID, userID string, pos int64) (bool, error) {
	var n int64
	err := s.q(ctx).Model(&models.Event{}).
		Where("room_id = ? AND type = ? AND state_key = ? AND membership = ? AND stream_pos > ? AND NOT rejected",
			roomID, "m.room.member", userID, "join", pos).Limit(1).Count(&n).Error
	return n > 0, mapErr("check later join of "+userID, err)
}

// TxnIDsOf maps those of the given events that the user's device sent with a
// transaction ID to that ID (the client event's unsigned.transaction_id).
func (s *Store) TxnIDsOf(ctx context.Context, userID, deviceID string, eventIDs []string) (map[string]string, error) {
	out := map[string]string{}
	for chunk := range chunks(eventIDs) {
		var rows []models.TxnID
		err := s.q(ctx).Where("event_id IN ? AND user_id = ? AND device_id = ?", chunk, userID, deviceID).Find(&rows).Error
		if err != nil {
			return nil, mapErr("look up transaction IDs", err)
		}
		for _, r := range rows {
			out[r.EventID] = r.TxnID
		}
	}
	return out, nil
}

// MoveAliases points every local alias of one room at another (room
// upgrades: "Moves any local aliases to the new room").
func (s *Store) MoveAliases(ctx context.Context, fromRoom, toRoom string) error {
	err := s.q(ctx).Model(&models.RoomAlias{}).Where("room_id = ?", fromRoom).Update("room_id", toRoom).Error
	return mapErr("move aliases of "+fromRoom, err)
}
