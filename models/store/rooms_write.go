package store

import (
	"context"
	"fmt"

	"gorm.io/gorm/clause"

	"github.com/kabarchat/kabar/models"
)

// RoomWrite is everything one batch of a room's events changes. The room
// writer fills it and WriteRoom stores it with few multi-row statements,
// inside the caller's transaction (state blocks and snapshots are written
// with StateCache.Apply in the same transaction, before this).
type RoomWrite struct {
	RoomID string
	// NewRoom is set for the batch that creates the room.
	NewRoom *models.Room
	// NewAlias is created in the same transaction (createRoom's
	// room_alias_name); ErrConflict if taken.
	NewAlias *models.RoomAlias
	Events   []models.Event
	// SnapshotNID is the room's current state after the batch (0: unchanged).
	SnapshotNID int64
	// CurrentState rows replace the rows with the same (type, state_key).
	CurrentState []models.CurrentState
	// The forward extremities removed and added by the batch.
	ExtremitiesRemoved []string
	ExtremitiesAdded   []string
	TxnIDs             []models.TxnID
	// Redactions maps a redacted event ID to the redaction's event ID.
	Redactions map[string]string
}

// batchSize keeps multi-row statements under both engines' parameter limits.
const batchSize = 500

// WriteRoom stores a RoomWrite. Call it inside Transaction.
func (s *Store) WriteRoom(ctx context.Context, w *RoomWrite) error {
	db := s.q(ctx)
	if w.NewRoom != nil {
		if err := db.Create(w.NewRoom).Error; err != nil {
			return mapErr("create room "+w.RoomID, err)
		}
	}
	if w.NewAlias != nil {
		if err := db.Create(w.NewAlias).Error; err != nil {
			return mapErr("create alias "+w.NewAlias.Alias, err)
		}
	}
	if len(w.Events) > 0 {
		if err := db.CreateInBatches(w.Events, batchSize).Error; err != nil {
			return mapErr("insert events of "+w.RoomID, err)
		}
	}
	if w.SnapshotNID != 0 {
		err := db.Model(&models.Room{}).Where("room_id = ?", w.RoomID).Update("snapshot_nid", w.SnapshotNID).Error
		if err != nil {
			return mapErr("update state of "+w.RoomID, err)
		}
	}
	if len(w.CurrentState) > 0 {
		err := db.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "room_id"}, {Name: "type"}, {Name: "state_key"}},
			DoUpdates: clause.AssignmentColumns([]string{"event_nid", "event_id", "membership"}),
		}).CreateInBatches(w.CurrentState, batchSize).Error
		if err != nil {
			return mapErr("update current state of "+w.RoomID, err)
		}
	}
	if err := s.writeExtremities(ctx, w); err != nil {
		return err
	}
	if err := s.unforget(ctx, w); err != nil {
		return err
	}
	if len(w.TxnIDs) > 0 {
		if err := db.Create(w.TxnIDs).Error; err != nil {
			return mapErr("record transaction IDs", err)
		}
	}
	if err := s.indexRoomWrite(ctx, w); err != nil { // relations and search (relations_index.go)
		return err
	}
	for redacted, by := range w.Redactions {
		err := db.Model(&models.Event{}).Where("event_id = ? AND redacted_by = ''", redacted).Update("redacted_by", by).Error
		if err != nil {
			return mapErr("mark "+redacted+" redacted", err)
		}
	}
	return nil
}

func (s *Store) writeExtremities(ctx context.Context, w *RoomWrite) error {
	db := s.q(ctx)
	if len(w.ExtremitiesRemoved) > 0 {
		err := db.Where("room_id = ? AND event_id IN ?", w.RoomID, w.ExtremitiesRemoved).
			Delete(&models.ForwardExtremity{}).Error
		if err != nil {
			return mapErr("remove forward extremities", err)
		}
	}
	if len(w.ExtremitiesAdded) > 0 {
		rows := make([]models.ForwardExtremity, len(w.ExtremitiesAdded))
		for i, id := range w.ExtremitiesAdded {
			rows[i] = models.ForwardExtremity{RoomID: w.RoomID, EventID: id}
		}
		if err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(rows).Error; err != nil {
			return mapErr("add forward extremities", err)
		}
	}
	return nil
}

// MaxNIDs returns the highest event NID and stream position in use, so the
// in-process allocators continue after them.
func (s *Store) MaxNIDs(ctx context.Context) (eventNID, streamPos int64, err error) {
	var row struct{ N, P int64 }
	err = s.q(ctx).Model(&models.Event{}).
		Select("COALESCE(MAX(event_nid), 0) AS n, COALESCE(MAX(stream_pos), 0) AS p").Scan(&row).Error
	if err != nil {
		return 0, 0, fmt.Errorf("read highest event positions: %w", err)
	}
	return row.N, row.P, nil
}
