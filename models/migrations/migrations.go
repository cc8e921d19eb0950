// Package migrations holds Kabar's database migrations: ordered, append-only,
// each run in its own transaction, each with its own frozen copies of the row
// structs so a later change to models/ never changes what an old migration does.
package migrations

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"
)

// Migration is one schema step. Version numbers are dense and increasing.
type Migration struct {
	Version int
	Name    string
	Up      func(tx *gorm.DB) error
}

// All is the ordered list of migrations. Append only; never edit a released one.
var All = []Migration{
	{1, "accounts", accountsV1},
	{2, "rooms", roomsV2},
	{3, "sync", syncV3},
	{4, "e2ee", e2eeV4},
	{5, "federation", federationV5},
	{6, "media", mediaV6Up},
	{7, "rooms_api", roomsAPIV7},
	{8, "push", pushV8},
	{9, "relations", relationsV9},
	{10, "e2ee_remote_cache", e2eeRemoteCacheV10},
	{11, "registration_tokens", registrationTokensV11},
	{12, "worker_positions", workerPositionsV12},
	{13, "presence", presenceV13Up},
}

// schemaVersion is the bookkeeping table.
type schemaVersion struct {
	Version   int `gorm:"primaryKey;autoIncrement:false"`
	Name      string
	AppliedAt int64
}

func (schemaVersion) TableName() string { return "kabar_schema_versions" }

// ErrDatabaseTooNew means the database was migrated by a newer Kabar.
var ErrDatabaseTooNew = errors.New("database schema is newer than this Kabar")

// Latest returns the newest version this code knows.
// (the highest, so entries appended out of order, like 9 before 8, still
// count).
func Latest() int {
	v := 0
	for _, m := range All {
		v = max(v, m.Version)
	}
	return v
}

// Run applies every pending migration in order, each in one transaction.
func Run(ctx context.Context, db *gorm.DB, log *slog.Logger) error {
	db = db.WithContext(ctx)
	if err := db.AutoMigrate(&schemaVersion{}); err != nil {
		return fmt.Errorf("create schema table: %w", err)
	}
	var applied []int
	if err := db.Model(&schemaVersion{}).Pluck("version", &applied).Error; err != nil {
		return fmt.Errorf("read schema versions: %w", err)
	}
	done := make(map[int]bool, len(applied))
	for _, v := range applied {
		if v > Latest() {
			return fmt.Errorf("%w: database has migration %d, this build knows up to %d; upgrade Kabar", ErrDatabaseTooNew, v, Latest())
		}
		done[v] = true
	}
	// Each known migration that has not run yet runs now, even one numbered
	// below the newest applied (a migration that landed later than a
	// higher-numbered one must still run).
	for _, m := range All {
		if done[m.Version] {
			continue
		}
		start := time.Now()
		err := db.Transaction(func(tx *gorm.DB) error {
			if err := m.Up(tx); err != nil {
				return err
			}
			return tx.Create(&schemaVersion{Version: m.Version, Name: m.Name, AppliedAt: time.Now().UnixMilli()}).Error
		})
		if err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.Version, m.Name, err)
		}
		log.Info("applied database migration", "version", m.Version, "name", m.Name, "took", time.Since(start).Round(time.Millisecond))
	}
	return nil
}
