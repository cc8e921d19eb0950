package store

import (
	"context"

	"github.com/kabarchat/kabar/models"
)

// Batched reads for POST /keys/query: a request names many users, and one
// query per table for all of them (per batchSize users, the SQLite
// parameter limit) replaces a round of queries per user.

// LiveDeviceKey is the uploaded identity keys of a device that still
// exists, with its display name.
type LiveDeviceKey struct {
	UserID      string
	DeviceID    string
	KeyJSON     string
	DisplayName string
}

// LiveDeviceKeysOf returns the device keys of the users' existing devices
// (keys of a deleted device linger only until cleanup and are left out),
// ordered by user and device.
func (s *Store) LiveDeviceKeysOf(ctx context.Context, userIDs []string) ([]LiveDeviceKey, error) {
	var out []LiveDeviceKey
	for chunk := range chunks(userIDs) {
		var part []LiveDeviceKey
		err := s.q(ctx).Table("e2ee_device_keys AS k").
			Select("k.user_id, k.device_id, k.key_json, d.display_name").
			Joins("JOIN devices AS d ON d.user_id = k.user_id AND d.device_id = k.device_id").
			Where("k.user_id IN ?", chunk).Order("k.user_id, k.device_id").Scan(&part).Error
		if err != nil {
			return nil, mapErr("load device keys of users", err)
		}
		out = append(out, part...)
	}
	return out, nil
}

// SignaturesOnUsers returns the uploaded signatures on the users' keys made
// by the key's owner or by viewer ("" for owners only), by target user.
func (s *Store) SignaturesOnUsers(ctx context.Context, userIDs []string, viewer string) (map[string][]models.CrossSigningSignature, error) {
	out := map[string][]models.CrossSigningSignature{}
	for chunk := range chunks(userIDs) {
		var part []models.CrossSigningSignature
		err := s.q(ctx).Where("target_user_id IN ? AND (signer_user_id = target_user_id OR signer_user_id = ?)", chunk, viewer).
			Order("target_user_id, target_key_id, signer_user_id, signer_key_id").Find(&part).Error
		if err != nil {
			return nil, mapErr("load signatures on keys of users", err)
		}
		for _, sg := range part {
			out[sg.TargetUserID] = append(out[sg.TargetUserID], sg)
		}
	}
	return out, nil
}

// CrossSigningKeysOfUsers returns the users' cross-signing keys by user and
// key type.
func (s *Store) CrossSigningKeysOfUsers(ctx context.Context, userIDs []string) (map[string]map[string]models.CrossSigningKey, error) {
	out := map[string]map[string]models.CrossSigningKey{}
	for chunk := range chunks(userIDs) {
		var part []models.CrossSigningKey
		if err := s.q(ctx).Where("user_id IN ?", chunk).Find(&part).Error; err != nil {
			return nil, mapErr("load cross-signing keys of users", err)
		}
		for _, k := range part {
			if out[k.UserID] == nil {
				out[k.UserID] = map[string]models.CrossSigningKey{}
			}
			out[k.UserID][k.KeyType] = k
		}
	}
	return out, nil
}
