package store

import (
	"context"

	"gorm.io/gorm/clause"

	"github.com/kabarchat/kabar/models"
)

// ServerKeys returns the cached verify keys of a remote server.
func (s *Store) ServerKeys(ctx context.Context, serverName string) ([]models.ServerKey, error) {
	var rows []models.ServerKey
	err := s.q(ctx).Where("server_name = ?", serverName).Order("key_id").Find(&rows).Error
	return rows, mapErr("load server keys of "+serverName, err)
}

// SaveServerKeys inserts or replaces cached verify keys.
func (s *Store) SaveServerKeys(ctx context.Context, keys []models.ServerKey) error {
	if len(keys) == 0 {
		return nil
	}
	err := s.q(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "server_name"}, {Name: "key_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"public_key", "valid_until_ts", "expired_ts", "fetched_at", "response"}),
	}).Create(&keys).Error
	return mapErr("save server keys", err)
}

// Enqueue appends entries to destinations' outbound queues; IDs are filled in.
func (s *Store) Enqueue(ctx context.Context, entries []models.QueueEntry) error {
	if len(entries) == 0 {
		return nil
	}
	return mapErr("enqueue federation entries", s.q(ctx).Create(&entries).Error)
}

// QueueHead returns the oldest queued entries of one kind for a destination.
func (s *Store) QueueHead(ctx context.Context, destination, kind string, limit int) ([]models.QueueEntry, error) {
	var rows []models.QueueEntry
	err := s.q(ctx).Where("destination = ? AND kind = ?", destination, kind).
		Order("id").Limit(limit).Find(&rows).Error
	return rows, mapErr("load queue of "+destination, err)
}

// QueueDestinations lists destinations with queued entries.
func (s *Store) QueueDestinations(ctx context.Context) ([]string, error) {
	var dests []string
	err := s.q(ctx).Model(&models.QueueEntry{}).Distinct("destination").Pluck("destination", &dests).Error
	return dests, mapErr("list queue destinations", err)
}

// Dequeue deletes acknowledged entries.
func (s *Store) Dequeue(ctx context.Context, ids []int64) error {
	for part := range chunks(ids) {
		if err := s.q(ctx).Where("id IN ?", part).Delete(&models.QueueEntry{}).Error; err != nil {
			return mapErr("dequeue federation entries", err)
		}
	}
	return nil
}

// InboundTxn returns the stored response to a transaction already processed.
func (s *Store) InboundTxn(ctx context.Context, origin, txnID string) (models.InboundTxn, error) {
	var t models.InboundTxn
	err := s.q(ctx).Where("origin = ? AND txn_id = ?", origin, txnID).Take(&t).Error
	return t, mapErr("load inbound txn "+txnID, err)
}

// SaveInboundTxn records a processed transaction; ErrConflict if it exists.
func (s *Store) SaveInboundTxn(ctx context.Context, t models.InboundTxn) error {
	return mapErr("save inbound txn "+t.TxnID, s.q(ctx).Create(&t).Error)
}
