package migrations

import "gorm.io/gorm"

// Frozen row shape of migration 11: registration tokens made through the
// admin API. Do not change; add a new migration instead.

type registrationTokenV11 struct {
	Token       string `gorm:"primaryKey;size:64"`
	UsesAllowed *int64
	Pending     int64 `gorm:"not null;default:0"`
	Completed   int64 `gorm:"not null;default:0"`
	ExpiryTime  *int64
}

func (registrationTokenV11) TableName() string { return "registration_tokens" }

// registrationTokensV11 adds the registration_tokens table.
func registrationTokensV11(tx *gorm.DB) error {
	return tx.Migrator().CreateTable(&registrationTokenV11{})
}
