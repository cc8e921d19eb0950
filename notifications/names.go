package notifications

import "context"

// memberName is the user's display name in the room for the
// contains_display_name condition. The names of all joined members are
// read in one query per room and batch (a message to a room of a thousand
// members used to cost two queries per member before any /sync woken by it
// could show its unread counts); a user not joined (an invitee) is looked
// up alone.
func (s *Service) memberName(ctx context.Context, info *roomInfo, roomID, userID string) string {
	if info.names == nil {
		names, err := s.st.JoinedMemberNames(ctx, roomID)
		if err != nil {
			return s.displayName(ctx, roomID, userID)
		}
		info.names = names
	}
	if name, ok := info.names[userID]; ok {
		return name
	}
	return s.displayName(ctx, roomID, userID)
}
