package migrations

import "gorm.io/gorm"

// Frozen row shape of migration 12: background workers' processed stream
// positions. Do not change; add a new migration instead.

type workerPositionV12 struct {
	Name string `gorm:"primaryKey;size:64"`
	Pos  int64  `gorm:"not null"`
}

func (workerPositionV12) TableName() string { return "worker_positions" }

// workerPositionsV12 adds the worker_positions table.
func workerPositionsV12(tx *gorm.DB) error {
	return tx.Migrator().CreateTable(&workerPositionV12{})
}
