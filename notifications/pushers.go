package notifications

import (
	"context"
	"encoding/json"
	"net/url"
	"time"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
)

// Pusher is the pusher object of pusher.yaml (GET /pushers and the body of
// POST /pushers/set, where Kind null deletes and Append is read).
type Pusher struct {
	Pushkey           string          `json:"pushkey"`
	Kind              *string         `json:"kind"`
	AppID             string          `json:"app_id"`
	AppDisplayName    string          `json:"app_display_name,omitempty"`
	DeviceDisplayName string          `json:"device_display_name,omitempty"`
	ProfileTag        string          `json:"profile_tag,omitempty"`
	Lang              string          `json:"lang,omitempty"`
	Data              json.RawMessage `json:"data,omitempty"`
	Append            bool            `json:"append,omitempty"`
}

// notifyPath is the only path a push gateway serves notifications on
// (push-gateway-api; pusher.yaml data.url "MUST be ... /_matrix/push/v1/notify").
const notifyPath = "/_matrix/push/v1/notify"

// Pushers lists the user's pushers.
func (s *Service) Pushers(ctx context.Context, userID string) ([]Pusher, error) {
	rows, err := s.st.Pushers(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]Pusher, 0, len(rows))
	for _, r := range rows {
		kind := r.Kind
		out = append(out, Pusher{
			Pushkey: r.Pushkey, Kind: &kind, AppID: r.AppID, AppDisplayName: r.AppDisplayName,
			DeviceDisplayName: r.DeviceDisplayName, ProfileTag: r.ProfileTag, Lang: r.Lang, Data: json.RawMessage(r.Data),
		})
	}
	return out, nil
}

// SetPusher creates, updates or (kind null) deletes a pusher, after
// pusher.yaml's validation.
func (s *Service) SetPusher(ctx context.Context, userID, deviceID string, p Pusher) error {
	if p.AppID == "" || p.Pushkey == "" {
		return spec.MissingParam("app_id and pushkey are required")
	}
	if len(p.AppID) > 64 || len(p.Pushkey) > 512 {
		return spec.InvalidParam("app_id is at most 64 and pushkey at most 512 bytes")
	}
	if p.Kind == nil {
		if err := s.st.DeletePusher(ctx, userID, p.AppID, p.Pushkey); err != nil {
			return err
		}
		return s.refreshPushUser(ctx, userID)
	}
	if err := validatePusher(p); err != nil {
		return err
	}
	row := models.Pusher{
		UserID: userID, AppID: p.AppID, Pushkey: p.Pushkey, Kind: *p.Kind, AppDisplayName: p.AppDisplayName,
		DeviceDisplayName: p.DeviceDisplayName, ProfileTag: p.ProfileTag, Lang: p.Lang, Data: string(p.Data),
		DeviceID: deviceID, CreatedAt: time.Now().UnixMilli(),
	}
	if err := s.st.PutPusher(ctx, row, p.Append); err != nil {
		return err
	}
	s.mu.Lock()
	s.pushUsers[userID] = true
	s.mu.Unlock()
	return nil
}

func validatePusher(p Pusher) error {
	if *p.Kind != "http" {
		return spec.InvalidParam("only http pushers are supported")
	}
	if p.AppDisplayName == "" || p.DeviceDisplayName == "" || p.Lang == "" || len(p.Data) == 0 {
		return spec.MissingParam("app_display_name, device_display_name, lang and data are required")
	}
	var data map[string]json.RawMessage
	if err := json.Unmarshal(p.Data, &data); err != nil || data == nil {
		return spec.BadJSON("data must be an object")
	}
	var raw string
	if err := json.Unmarshal(data["url"], &raw); err != nil || raw == "" {
		return spec.MissingParam("http pushers need data.url")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != notifyPath {
		return spec.InvalidParam("data.url must be an http(s) URL ending in %s", notifyPath)
	}
	if f, ok := data["format"]; ok {
		var format string
		if json.Unmarshal(f, &format) != nil {
			return spec.InvalidParam("data.format must be a string")
		}
	}
	return nil
}

// removeRejected deletes a pusher whose pushkey the gateway rejected
// (push-gateway-api "rejected").
func (s *Service) removeRejected(ctx context.Context, p models.Pusher) error {
	if err := s.st.DeletePushersByKey(ctx, p.AppID, p.Pushkey); err != nil {
		return err
	}
	return s.refreshPushUser(ctx, p.UserID)
}

func (s *Service) refreshPushUser(ctx context.Context, userID string) error {
	rows, err := s.st.Pushers(ctx, userID)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.pushUsers[userID] = len(rows) > 0
	s.mu.Unlock()
	return nil
}
