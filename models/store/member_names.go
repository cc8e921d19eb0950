package store

import (
	"context"
	"encoding/json"
	"strings"
)

// JoinedMemberNames maps each joined member of the room to the display
// name in their membership event ("" when unset), in one query: the push
// worker needs it for every recipient of a message (the
// .m.rule.contains_display_name condition), and reading each member's
// event separately cost two queries per member per message.
func (s *Store) JoinedMemberNames(ctx context.Context, roomID string) (map[string]string, error) {
	var rows []struct {
		StateKey string
		JSON     string
	}
	err := s.q(ctx).Table("current_state AS cs").Select("cs.state_key AS state_key, e.json AS json").
		Joins("JOIN events e ON e.event_nid = cs.event_nid").
		Where("cs.room_id = ? AND cs.type = ? AND cs.membership = ?", roomID, "m.room.member", "join").
		Scan(&rows).Error
	if err != nil {
		return nil, mapErr("list joined member names of "+roomID, err)
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		var ev struct {
			Content struct {
				Displayname string `json:"displayname"`
			} `json:"content"`
		}
		json.Unmarshal([]byte(r.JSON), &ev) // stored events are valid JSON
		out[r.StateKey] = strings.TrimSpace(ev.Content.Displayname)
	}
	return out, nil
}
