package migrations

import "gorm.io/gorm"

// Frozen row shapes of migration 7 (client room APIs). Do not change; add a
// new migration instead.

// txnIDV7 replaces migration 2's event_txn_ids: a transaction ID is scoped to
// a device and an HTTP endpoint (client-server-api "Transaction
// identifiers"), not to a room, so send and redact in the same room may
// reuse an ID. The table only serves retries, so dropping old rows is safe.
type txnIDV7 struct {
	UserID    string `gorm:"primaryKey;size:255"`
	DeviceID  string `gorm:"primaryKey;size:255"`
	Scope     string `gorm:"primaryKey;size:255"`
	TxnID     string `gorm:"primaryKey;size:255"`
	EventID   string `gorm:"size:255;not null;index:idx_event_txn_ids_event"`
	CreatedAt int64  `gorm:"not null"`
}

func (txnIDV7) TableName() string { return "event_txn_ids" }

// forgottenRoomV7 marks a room a user forgot (POST /rooms/{roomId}/forget).
type forgottenRoomV7 struct {
	UserID      string `gorm:"primaryKey;size:255"`
	RoomID      string `gorm:"primaryKey;size:255"`
	ForgottenAt int64  `gorm:"not null"`
}

func (forgottenRoomV7) TableName() string { return "forgotten_rooms" }

// reportV7 is a content report (POST /rooms/{roomId}/report[/{eventId}]);
// EventID is "" for a report about the room.
type reportV7 struct {
	ReportID  int64  `gorm:"primaryKey;autoIncrement"`
	RoomID    string `gorm:"size:255;not null;index"`
	EventID   string `gorm:"size:255;not null;default:''"`
	Reporter  string `gorm:"size:255;not null"`
	Reason    string `gorm:"type:text;not null;default:''"`
	Score     *int64
	CreatedAt int64 `gorm:"not null"`
}

func (reportV7) TableName() string { return "content_reports" }

func roomsAPIV7(tx *gorm.DB) error {
	if err := tx.Migrator().DropTable("event_txn_ids"); err != nil {
		return err
	}
	return tx.Migrator().CreateTable(&txnIDV7{}, &forgottenRoomV7{}, &reportV7{})
}
