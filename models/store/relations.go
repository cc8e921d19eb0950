package store

import (
	"context"
	"fmt"

	"github.com/kabarchat/kabar/models"
)

// RelationQuery selects child events of some parents (GET
// /rooms/{roomId}/relations/{eventId}[/{relType}[/{eventType}]]).
type RelationQuery struct {
	RoomID  string
	Parents []string
	// RelType and EventType narrow the children; "" means any.
	RelType, EventType string
	// After and Before bound stream_pos exclusively (nil: unbounded).
	// Pointers, because backfilled events have negative positions and
	// every int64 is a real bound.
	After, Before *int64
	// Backwards orders newest first.
	Backwards bool
	Limit     int
}

// Relations returns the child events, in stream order.
func (s *Store) Relations(ctx context.Context, q RelationQuery) ([]models.Event, error) {
	db := s.q(ctx).Table("event_relations AS r").Select("e.*").
		Joins("JOIN events AS e ON e.event_id = r.event_id").
		Where("r.room_id = ? AND r.relates_to IN ?", q.RoomID, q.Parents)
	if q.RelType != "" {
		db = db.Where("r.rel_type = ?", q.RelType)
	}
	if q.EventType != "" {
		db = db.Where("r.type = ?", q.EventType)
	}
	if q.After != nil {
		db = db.Where("r.stream_pos > ?", *q.After)
	}
	if q.Before != nil {
		db = db.Where("r.stream_pos < ?", *q.Before)
	}
	order := "r.stream_pos"
	if q.Backwards {
		order += " DESC"
	}
	var rows []models.Event
	err := db.Order(order).Limit(q.Limit).Scan(&rows).Error
	return rows, mapErr("read relations", err)
}

// ChildIDs lists the IDs of the events relating to any of parents (any
// rel_type), for walking relations recursively.
func (s *Store) ChildIDs(ctx context.Context, roomID string, parents []string, limit int) ([]string, error) {
	var ids []string
	err := s.q(ctx).Model(&models.EventRelation{}).Where("room_id = ? AND relates_to IN ?", roomID, parents).
		Order("stream_pos").Limit(limit).Pluck("event_id", &ids).Error
	return ids, mapErr("read child events", err)
}

// ThreadSummary is the m.thread aggregation's raw data for one root.
type ThreadSummary struct {
	RelatesTo string
	Count     int
	Latest    int64
}

// ThreadSummaries summarizes the threads rooted at parents (client-server-api
// "Server-side aggregation of m.thread relationships"); participation is
// per user, see ThreadParticipation.
func (s *Store) ThreadSummaries(ctx context.Context, parents []string) (map[string]ThreadSummary, error) {
	out := map[string]ThreadSummary{}
	for chunk := range chunks(parents) {
		var rows []ThreadSummary
		err := s.q(ctx).Model(&models.EventRelation{}).
			Select("relates_to, COUNT(*) AS count, MAX(stream_pos) AS latest").
			Where("rel_type = ? AND relates_to IN ?", "m.thread", chunk).Group("relates_to").Scan(&rows).Error
		if err != nil {
			return nil, mapErr("summarize threads", err)
		}
		for _, r := range rows {
			out[r.RelatesTo] = r
		}
	}
	return out, nil
}

// RelationRows lists the relation rows of the given types for parents
// (the m.replace and m.reference aggregations; never annotations, which
// may be many).
func (s *Store) RelationRows(ctx context.Context, parents []string, relTypes []string) ([]models.EventRelation, error) {
	var out []models.EventRelation
	for chunk := range chunks(parents) {
		var part []models.EventRelation
		err := s.q(ctx).Where("rel_type IN ? AND relates_to IN ?", relTypes, chunk).Order("stream_pos").Find(&part).Error
		if err != nil {
			return nil, mapErr("read relation rows", err)
		}
		out = append(out, part...)
	}
	return out, nil
}

// ThreadEventAt loads the event of a thread at stream position pos.
func (s *Store) ThreadEventAt(ctx context.Context, roots map[string]int64) ([]models.Event, error) {
	if len(roots) == 0 {
		return nil, nil
	}
	pos := make([]int64, 0, len(roots))
	for _, p := range roots {
		pos = append(pos, p)
	}
	var rows []models.Event
	err := s.q(ctx).Table("events AS e").Select("e.*").
		Joins("JOIN event_relations AS r ON r.event_id = e.event_id").
		Where("r.rel_type = ? AND r.stream_pos IN ?", "m.thread", pos).Scan(&rows).Error
	return rows, mapErr("load latest thread events", err)
}

// ThreadRoot is one thread of a room and its latest activity.
type ThreadRoot struct {
	RootID string
	Latest int64
}

// ThreadRoots lists a room's threads by latest activity, newest first,
// those with activity before `before` (nil: no bound; backfilled threads
// have negative positions, so any int64 is a real bound). A non-empty
// participant keeps the threads they started or replied to (threads_list.yaml
// include=participated).
func (s *Store) ThreadRoots(ctx context.Context, roomID, participant string, before *int64, limit int) ([]ThreadRoot, error) {
	db := s.q(ctx).Model(&models.EventRelation{}).Select("relates_to AS root_id, MAX(stream_pos) AS latest").
		Where("room_id = ? AND rel_type = ?", roomID, "m.thread").Group("relates_to")
	if before != nil {
		db = db.Having("MAX(stream_pos) < ?", *before)
	}
	if participant != "" {
		db = db.Having("(MAX(CASE WHEN sender = ? THEN 1 ELSE 0 END) = 1 OR relates_to IN (?))", participant,
			s.q(ctx).Model(&models.Event{}).Select("event_id").Where("room_id = ? AND sender = ?", roomID, participant))
	}
	var out []ThreadRoot
	err := db.Order("latest DESC").Limit(limit).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list threads of %s: %w", roomID, err)
	}
	return out, nil
}

// ThreadParticipation lists which of the thread roots userID replied in.
func (s *Store) ThreadParticipation(ctx context.Context, roots []string, userID string) (map[string]bool, error) {
	var ids []string
	err := s.q(ctx).Model(&models.EventRelation{}).Distinct("relates_to").
		Where("rel_type = ? AND relates_to IN ? AND sender = ?", "m.thread", roots, userID).Pluck("relates_to", &ids).Error
	if err != nil {
		return nil, mapErr("read thread participation", err)
	}
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}
