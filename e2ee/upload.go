package e2ee

import (
	"context"
	"encoding/json"
	"errors"
	"sort"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// UploadRequest is the body of POST /keys/upload.
type UploadRequest struct {
	DeviceKeys   json.RawMessage            `json:"device_keys"`
	OneTimeKeys  map[string]json.RawMessage `json:"one_time_keys"`
	FallbackKeys map[string]json.RawMessage `json:"fallback_keys"`
}

// UploadKeys stores a device's keys (client-server-api "POST /keys/upload")
// and returns its unclaimed one-time key counts. Everything is validated
// before anything is stored.
func (s *Service) UploadKeys(ctx context.Context, userID, deviceID string, req UploadRequest) (map[string]int, error) {
	var deviceKeys string
	if len(req.DeviceKeys) > 0 && string(req.DeviceKeys) != "null" {
		var err error
		if deviceKeys, err = validateDeviceKeys(req.DeviceKeys, userID, deviceID); err != nil {
			return nil, err
		}
	}
	otks, err := s.oneTimeKeyRows(userID, deviceID, req.OneTimeKeys)
	if err != nil {
		return nil, err
	}
	fallbacks, err := fallbackRows(userID, deviceID, req.FallbackKeys)
	if err != nil {
		return nil, err
	}
	if deviceKeys != "" {
		changed, err := s.st.PutDeviceKeys(ctx, userID, deviceID, deviceKeys)
		if errors.Is(err, store.ErrConflict) {
			return nil, spec.InvalidParam("device %s already has different identity keys; log in as a new device", deviceID)
		}
		if err != nil {
			return nil, err
		}
		if changed {
			if err := s.recordChange(ctx, userID, []string{deviceID}, false); err != nil {
				return nil, err
			}
		}
	}
	if err := s.st.AddOneTimeKeys(ctx, otks); errors.Is(err, store.ErrConflict) {
		return nil, spec.InvalidParam("a one-time key ID is already in use with a different key")
	} else if err != nil {
		return nil, err
	}
	for _, fb := range fallbacks {
		if err := s.st.PutFallbackKey(ctx, fb); err != nil {
			return nil, err
		}
	}
	return s.st.OneTimeKeyCounts(ctx, userID, deviceID)
}

func (s *Service) oneTimeKeyRows(userID, deviceID string, in map[string]json.RawMessage) ([]models.OneTimeKey, error) {
	batch := s.opts.Now().UnixNano()
	rows := make([]models.OneTimeKey, 0, len(in))
	for keyID, raw := range in {
		alg, canon, err := validateOneTimeKey(keyID, raw, userID)
		if err != nil {
			return nil, err
		}
		rows = append(rows, models.OneTimeKey{UserID: userID, DeviceID: deviceID, KeyID: keyID,
			Algorithm: alg, Batch: batch, KeyJSON: canon})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].KeyID < rows[j].KeyID })
	return rows, nil
}

// fallbackRows validates fallback keys: at most one per algorithm.
func fallbackRows(userID, deviceID string, in map[string]json.RawMessage) ([]models.FallbackKey, error) {
	seen := map[string]bool{}
	var rows []models.FallbackKey
	for keyID, raw := range in {
		alg, canon, err := validateOneTimeKey(keyID, raw, userID)
		if err != nil {
			return nil, err
		}
		if seen[alg] {
			return nil, spec.InvalidParam("at most one fallback key per algorithm")
		}
		seen[alg] = true
		rows = append(rows, models.FallbackKey{UserID: userID, DeviceID: deviceID, Algorithm: alg, KeyID: keyID, KeyJSON: canon})
	}
	return rows, nil
}

// KeyCounts is what /sync reports about a device's keys.
type KeyCounts struct {
	OneTimeKeys            map[string]int
	UnusedFallbackKeyTypes []string
}

// Counts returns the device's one-time key counts and unused fallback key
// algorithms (client-server-api "Extensions to /sync").
func (s *Service) Counts(ctx context.Context, userID, deviceID string) (KeyCounts, error) {
	otk, err := s.st.OneTimeKeyCounts(ctx, userID, deviceID)
	if err != nil {
		return KeyCounts{}, err
	}
	fb, err := s.st.UnusedFallbackKeyTypes(ctx, userID, deviceID)
	if err != nil {
		return KeyCounts{}, err
	}
	return KeyCounts{OneTimeKeys: otk, UnusedFallbackKeyTypes: fb}, nil
}
