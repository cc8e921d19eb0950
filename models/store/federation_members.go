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

// ServerMember is a user of one server who was joined to or invited into a
// room at some point, with the stream positions of that user's latest join
// (nil if never joined) and latest join or invite.
type ServerMember struct {
	UserID   string `gorm:"column:user_id"`
	LastJoin *int64 `gorm:"column:last_join"`
	Last     int64  `gorm:"column:last"`
}

// ServerMembers lists the users of server with an accepted join or invite
// membership event in the room, most recently active first: the only users
// whose membership at an event can let their server see it (history
// visibility applied to servers, federation/rooms ServerView). One grouped
// query over the room's membership events of that server.
func (s *Store) ServerMembers(ctx context.Context, roomID, server string) ([]ServerMember, error) {
	esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(server)
	var out []ServerMember
	err := s.q(ctx).Model(&models.Event{}).
		Select("state_key AS user_id, MAX(CASE WHEN membership = 'join' THEN stream_pos END) AS last_join, MAX(stream_pos) AS last").
		Where("room_id = ? AND type = ? AND membership IN ? AND state_key LIKE ? ESCAPE '\\' AND NOT rejected",
			roomID, "m.room.member", []string{"join", "invite"}, "%:"+esc).
		Group("state_key").Order("last DESC").Scan(&out).Error
	return out, mapErr("list members of "+server+" in "+roomID, err)
}
