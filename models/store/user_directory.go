package store

import (
	"context"
	"strings"

	"github.com/kabarchat/kabar/models"
)

// DirectoryUser is one user directory hit.
type DirectoryUser struct {
	UserID      string
	DisplayName string
	AvatarURL   string
}

// SearchUserDirectory finds local, active users whose user ID or display
// name contains term, case-insensitively (users.yaml
// /user_directory/search). Unless all is set, only users who share a joined
// room with searcher or are joined to a public room are candidates.
func (s *Store) SearchUserDirectory(ctx context.Context, searcher, term string, all bool, limit int) ([]DirectoryUser, error) {
	like := "%" + escapeLike(strings.ToLower(term)) + "%"
	db := s.q(ctx).Table("users AS u").
		Select("u.user_id, COALESCE(p.display_name, '') AS display_name, COALESCE(p.avatar_url, '') AS avatar_url").
		Joins("LEFT JOIN profiles AS p ON p.user_id = u.user_id").
		Where("NOT u.deactivated AND NOT u.is_guest").
		Where("(LOWER(u.user_id) LIKE ? ESCAPE '!' OR LOWER(COALESCE(p.display_name, '')) LIKE ? ESCAPE '!')", like, like)
	if !all {
		mine := s.q(ctx).Model(&models.CurrentState{}).Select("room_id").
			Where("type = ? AND state_key = ? AND membership = ?", "m.room.member", searcher, "join")
		public := s.q(ctx).Model(&models.Room{}).Select("room_id").Where("is_public")
		visible := s.q(ctx).Model(&models.CurrentState{}).Select("state_key").
			Where("type = ? AND membership = ? AND (room_id IN (?) OR room_id IN (?))", "m.room.member", "join", mine, public)
		db = db.Where("(u.user_id IN (?) OR u.user_id = ?)", visible, searcher)
	}
	var out []DirectoryUser
	err := db.Order("u.user_id").Limit(limit).Scan(&out).Error
	return out, mapErr("search user directory", err)
}

// escapeLike makes %, _ and the escape character literal in a LIKE pattern.
func escapeLike(s string) string {
	r := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")
	return r.Replace(s)
}
