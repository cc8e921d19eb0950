package migrations

import "gorm.io/gorm"

// Frozen row shape of migration 10: the cache of remote users' keys. Do not
// change; add a new migration instead.

type remoteKeyCacheV10 struct {
	UserID         string `gorm:"primaryKey;size:255"`
	DeviceKeys     string `gorm:"type:text;not null"`
	MasterKey      string `gorm:"type:text;not null;default:''"`
	SelfSigningKey string `gorm:"type:text;not null;default:''"`
	FetchedAt      int64  `gorm:"not null"`
}

func (remoteKeyCacheV10) TableName() string { return "e2ee_remote_key_cache" }

// e2eeRemoteCacheV10 adds the remote key cache and an index to find the
// stale remote device lists the resync worker retries.
func e2eeRemoteCacheV10(tx *gorm.DB) error {
	if err := tx.Migrator().CreateTable(&remoteKeyCacheV10{}); err != nil {
		return err
	}
	return tx.Exec("CREATE INDEX idx_e2ee_remote_lists_stale ON e2ee_remote_device_lists (stale)").Error
}
