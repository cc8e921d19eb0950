package notifications

import (
	"context"

	"github.com/kabarchat/kabar/models"
)

// Listed is one entry of GET /notifications: the notification, its event
// and whether the user's read receipt covers it.
type Listed struct {
	Note  models.Notification
	Event models.Event
	Read  bool
}

// List returns the user's notifications newest first (notifications.yaml):
// IDs below before (0: newest), at most limit, only highlights if asked.
// Notifications whose event is gone are skipped.
func (s *Service) List(ctx context.Context, userID string, before int64, limit int, onlyHighlight bool) ([]Listed, error) {
	notes, err := s.st.NotificationsFor(ctx, userID, before, limit, onlyHighlight)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(notes))
	for i, n := range notes {
		ids[i] = n.EventID
	}
	evs, err := s.st.EventsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]models.Event, len(evs))
	for _, e := range evs {
		byID[e.EventID] = e
	}
	read := map[string]int64{}
	out := make([]Listed, 0, len(notes))
	for _, n := range notes {
		ev, ok := byID[n.EventID]
		if !ok {
			continue
		}
		pos, seen := read[n.RoomID]
		if !seen {
			if pos, err = s.st.ReadPosition(ctx, userID, n.RoomID); err != nil {
				return nil, err
			}
			read[n.RoomID] = pos
		}
		out = append(out, Listed{Note: n, Event: ev, Read: n.StreamPos <= pos})
	}
	return out, nil
}
