package store

import (
	"context"
	"fmt"

	"github.com/kabarchat/kabar/models"
)

// ToDeviceBatch is one /sendToDevice request's local deliveries.
type ToDeviceBatch struct {
	Sender   string
	DeviceID string // the sender's device (transaction IDs are per device)
	TxnID    string
	// StreamPos is the to-device position of the messages; the transaction
	// row keeps it so the stream end survives acknowledged deletions.
	StreamPos int64
	Messages  []models.ToDeviceMessage
	// MaxPerDevice bounds each recipient inbox; 0 means unbounded.
	MaxPerDevice int
}

// ErrInboxFull means a recipient device already holds MaxPerDevice
// undelivered messages.
var ErrInboxFull = fmt.Errorf("to-device inbox full: %w", ErrConflict)

// ErrDuplicateTxn means the transaction was already processed.
var ErrDuplicateTxn = fmt.Errorf("to-device transaction already processed: %w", ErrConflict)

// PutToDevice stores a request's messages and its transaction ID in one
// transaction, so a retried request is applied exactly once.
func (s *Store) PutToDevice(ctx context.Context, b ToDeviceBatch, now int64) error {
	return s.Transaction(ctx, func(tx *Store) error {
		txn := models.ToDeviceTxn{UserID: b.Sender, DeviceID: b.DeviceID, TxnID: b.TxnID, StreamPos: b.StreamPos, CreatedAt: now}
		var n int64
		if err := tx.q(ctx).Model(&txn).Where("user_id = ? AND device_id = ? AND txn_id = ?", b.Sender, b.DeviceID, b.TxnID).
			Count(&n).Error; err != nil {
			return mapErr("check to-device transaction", err)
		}
		if n > 0 {
			return ErrDuplicateTxn
		}
		if err := tx.q(ctx).Create(&txn).Error; err != nil {
			return mapErr("record to-device transaction", err)
		}
		if b.MaxPerDevice > 0 {
			if err := tx.checkInboxes(ctx, b.Messages, b.MaxPerDevice); err != nil {
				return err
			}
		}
		if len(b.Messages) == 0 {
			return nil
		}
		return mapErr("store to-device messages", tx.q(ctx).CreateInBatches(&b.Messages, 200).Error)
	})
}

func (s *Store) checkInboxes(ctx context.Context, msgs []models.ToDeviceMessage, limit int) error {
	for _, m := range msgs {
		var n int64
		if err := s.q(ctx).Model(&models.ToDeviceMessage{}).Where("user_id = ? AND device_id = ?", m.UserID, m.DeviceID).
			Count(&n).Error; err != nil {
			return mapErr("count to-device inbox", err)
		}
		if n >= int64(limit) {
			return fmt.Errorf("device %s of %s: %w", m.DeviceID, m.UserID, ErrInboxFull)
		}
	}
	return nil
}

// AckToDevice deletes the device's messages at or before pos: the client
// has them once it syncs with a token at or past pos.
func (s *Store) AckToDevice(ctx context.Context, userID, deviceID string, pos int64) error {
	return mapErr("delete delivered to-device messages", s.q(ctx).
		Where("user_id = ? AND device_id = ? AND stream_pos <= ?", userID, deviceID, pos).
		Delete(&models.ToDeviceMessage{}).Error)
}

// ToDeviceInbox returns the device's messages in (from, to], oldest first,
// at most limit (0: all).
func (s *Store) ToDeviceInbox(ctx context.Context, userID, deviceID string, from, to int64, limit int) ([]models.ToDeviceMessage, error) {
	q := s.q(ctx).Where("user_id = ? AND device_id = ? AND stream_pos > ? AND stream_pos <= ?", userID, deviceID, from, to).
		Order("stream_pos")
	if limit > 0 {
		q = q.Limit(limit)
	}
	var rows []models.ToDeviceMessage
	return rows, mapErr("read to-device inbox", q.Find(&rows).Error)
}

// DeleteToDeviceTxnsBefore forgets transaction IDs older than a cutoff.
func (s *Store) DeleteToDeviceTxnsBefore(ctx context.Context, before int64) error {
	return mapErr("expire to-device transactions",
		s.q(ctx).Where("created_at < ?", before).Delete(&models.ToDeviceTxn{}).Error)
}
