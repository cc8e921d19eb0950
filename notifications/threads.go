package notifications

import "context"

// Counts are one timeline's notification and highlight counts.
type Counts struct{ Notify, Highlight int64 }

// ThreadedUnread splits a room's unread counts into the main timeline and
// each thread (client-server-api "Receiving notifications", threaded
// read receipts): an unthreaded receipt reads everything up to its event,
// a "main" receipt the main timeline, a thread receipt that thread.
func (s *Service) ThreadedUnread(ctx context.Context, userID, roomID string) (Counts, map[string]Counts, error) {
	all, err := s.st.ReadPosition(ctx, userID, roomID)
	if err != nil {
		return Counts{}, nil, err
	}
	threads, err := s.st.ThreadReadPositions(ctx, userID, roomID)
	if err != nil {
		return Counts{}, nil, err
	}
	rows, err := s.st.NotificationsAfter(ctx, userID, roomID, all)
	if err != nil {
		return Counts{}, nil, err
	}
	var main Counts
	per := map[string]Counts{}
	for _, n := range rows {
		key := n.ThreadID
		if key == "" {
			key = "main"
		}
		if n.StreamPos <= threads[key] {
			continue
		}
		c := per[key]
		if key == "main" {
			c = main
		}
		c.Notify++
		if n.Highlight {
			c.Highlight++
		}
		if key == "main" {
			main = c
		} else {
			per[key] = c
		}
	}
	return main, per, nil
}
