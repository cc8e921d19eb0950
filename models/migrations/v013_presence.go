package migrations

import "gorm.io/gorm"

// Frozen row shape of migration 13: each user's last presence, status
// message and last active time. Do not change; add a new migration
// instead.

type presenceV13 struct {
	UserID       string  `gorm:"primaryKey;size:255"`
	Presence     string  `gorm:"size:16;not null"`
	StatusMsg    *string `gorm:"type:text"`
	LastActiveTS int64   `gorm:"not null"`
	StreamPos    int64   `gorm:"not null"`
}

func (presenceV13) TableName() string { return "presence" }

// presenceV13Up adds the presence table.
func presenceV13Up(tx *gorm.DB) error {
	return tx.Migrator().CreateTable(&presenceV13{})
}
