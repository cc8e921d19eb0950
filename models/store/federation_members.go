package store

import (
	"context"
	"strings"

	"github.com/kabarchat/kabar/models"
)

// HasJoinedOn reports whether any user of server is joined to the room: a
// server takes part in a room (holds its live state, receives its events)
// only while one of its users is joined. One indexed probe, not a member
// list: it runs on every join and leave.
func (s *Store) HasJoinedOn(ctx context.Context, roomID, server string) (bool, error) {
	esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(server)
	var n int64
	err := s.q(ctx).Model(&models.CurrentState{}).
		Where("room_id = ? AND type = ? AND membership = ? AND state_key LIKE ? ESCAPE '\\'",
			roomID, "m.room.member", "join", "%:"+esc).
		Limit(1).Count(&n).Error
	return n > 0, mapErr("look for members of "+server+" in "+roomID, err)
}
