package notifications

import (
	"context"
	"encoding/json"

	"github.com/kabarchat/kabar/push"
)

// payload builds the notification object of push-gateway-api "POST
// /_matrix/push/v1/notify". With data.format "event_id_only" only the IDs,
// counts and devices are sent (no content leaves the server).
func (s *Service) payload(ctx context.Context, j job, data map[string]any) map[string]any {
	n := j.note
	unread, _, err := s.UnreadCounts(ctx, n.UserID, n.RoomID)
	if err != nil {
		s.log.Warn("count unread for push", "err", err)
	}
	var raw []json.RawMessage
	json.Unmarshal([]byte(n.Actions), &raw) // stored by us
	act := push.ParseActions(raw)
	devData := map[string]any{}
	for k, v := range data {
		if k != "url" { // the url is for the server only (pusher.yaml)
			devData[k] = v
		}
	}
	tweaks := act.Tweaks
	if tweaks == nil {
		tweaks = map[string]any{}
	}
	device := map[string]any{
		"app_id": j.pusher.AppID, "pushkey": j.pusher.Pushkey, "pushkey_ts": j.pusher.CreatedAt / 1000,
		"data": devData, "tweaks": tweaks,
	}
	prio := "low"
	if act.Highlight || tweaks["sound"] != nil {
		prio = "high"
	}
	// NOTSPEC: "unread" counts the room's unread notifications, not all rooms'.
	out := map[string]any{
		"event_id": n.EventID, "room_id": n.RoomID, "prio": prio,
		"counts":  map[string]any{"unread": unread},
		"devices": []any{device},
	}
	if format, _ := data["format"].(string); format == "event_id_only" {
		return out
	}
	if row, err := s.st.EventByID(ctx, n.EventID); err == nil {
		var ev struct {
			Type     string          `json:"type"`
			Sender   string          `json:"sender"`
			Content  json.RawMessage `json:"content"`
			StateKey *string         `json:"state_key"`
		}
		json.Unmarshal([]byte(row.JSON), &ev)
		out["type"], out["sender"], out["content"] = ev.Type, ev.Sender, ev.Content
		if ev.StateKey != nil {
			out["user_is_target"] = *ev.StateKey == n.UserID
		}
		if name := s.displayName(ctx, n.RoomID, ev.Sender); name != "" {
			out["sender_display_name"] = name
		}
	}
	return out
}
