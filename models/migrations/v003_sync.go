package migrations

import "gorm.io/gorm"

// Frozen row shapes of migration 3: sync filters and receipts. Do not
// change; add a new migration instead.

type filterV3 struct {
	UserID   string `gorm:"primaryKey;size:255"`
	FilterID int64  `gorm:"primaryKey;autoIncrement:false"`
	Filter   string `gorm:"type:text;not null"`
}

func (filterV3) TableName() string { return "sync_filters" }

type receiptV3 struct {
	RoomID    string `gorm:"primaryKey;size:255;index:idx_receipts_room_stream,priority:1"`
	Type      string `gorm:"primaryKey;size:64"`
	UserID    string `gorm:"primaryKey;size:255"`
	ThreadID  string `gorm:"primaryKey;size:255"`
	EventID   string `gorm:"size:255;not null"`
	TS        int64  `gorm:"column:ts;not null"`
	StreamPos int64  `gorm:"not null;index:idx_receipts_stream;index:idx_receipts_room_stream,priority:2"`
}

func (receiptV3) TableName() string { return "receipts" }

func syncV3(tx *gorm.DB) error {
	return tx.Migrator().CreateTable(&filterV3{}, &receiptV3{})
}
