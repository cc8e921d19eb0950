package store

import (
	"context"
	"fmt"

	"github.com/kabarchat/kabar/models"
)

// Backfilled history (server-server-api "Backfilling and retrieving missing
// events") is stored with negative stream positions: /messages pages
// through it in the topological order (depth, stream_pos), while /sync,
// which reads stream_pos > since >= 0, never sees it as new.

// LowestStreamPos returns the lowest stream position of any event, at most
// 0: the next backfilled event goes below it.
func (s *Store) LowestStreamPos(ctx context.Context) (int64, error) {
	var low *int64
	err := s.q(ctx).Model(&models.Event{}).Select("MIN(stream_pos)").Scan(&low).Error
	if err != nil {
		return 0, mapErr("read lowest stream position", err)
	}
	if low == nil || *low > 0 {
		return 0, nil
	}
	return *low, nil
}

// PromoteOutlier gives an event stored as an outlier (stream_pos 0) a
// backfilled place in the timeline and its state snapshots.
func (s *Store) PromoteOutlier(ctx context.Context, eventNID, pos, before, after int64) error {
	res := s.q(ctx).Model(&models.Event{}).Where("event_nid = ? AND stream_pos = 0", eventNID).
		Updates(map[string]any{"stream_pos": pos, "state_before": before, "state_after": after})
	if res.Error != nil {
		return mapErr(fmt.Sprintf("promote outlier %d", eventNID), res.Error)
	}
	return nil
}

// EarliestTimelineEvent returns the room's first event in topological
// order, backfilled or not. ErrNotFound if the room has none.
func (s *Store) EarliestTimelineEvent(ctx context.Context, roomID string) (models.Event, error) {
	var e models.Event
	err := s.q(ctx).Where("room_id = ? AND stream_pos <> 0 AND NOT rejected", roomID).
		Order("depth, stream_pos").Take(&e).Error
	return e, mapErr("read earliest event of "+roomID, err)
}
