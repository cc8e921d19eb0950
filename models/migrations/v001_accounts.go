package migrations

import "gorm.io/gorm"

// Frozen row shapes of migration 1. Do not change; add a new migration instead.

type userV1 struct {
	UserID       string `gorm:"primaryKey;size:255"`
	Localpart    string `gorm:"size:255;not null;uniqueIndex"`
	PasswordHash string `gorm:"size:255"`
	IsAdmin      bool   `gorm:"not null;default:false"`
	IsGuest      bool   `gorm:"not null;default:false"`
	Deactivated  bool   `gorm:"not null;default:false"`
	UserType     string `gorm:"size:64;not null;default:''"`
	CreatedAt    int64  `gorm:"not null"`
}

func (userV1) TableName() string { return "users" }

type deviceV1 struct {
	UserID      string `gorm:"primaryKey;size:255"`
	DeviceID    string `gorm:"primaryKey;size:255"`
	DisplayName string `gorm:"size:255"`
	LastSeenIP  string `gorm:"size:64"`
	LastSeenTS  int64  `gorm:"not null;default:0"`
	CreatedAt   int64  `gorm:"not null"`
}

func (deviceV1) TableName() string { return "devices" }

// accessTokenV1 stores the SHA-256 of a token, never the token itself.
type accessTokenV1 struct {
	TokenHash string `gorm:"primaryKey;size:64"`
	UserID    string `gorm:"size:255;not null;index:idx_access_tokens_device"`
	DeviceID  string `gorm:"size:255;not null;index:idx_access_tokens_device"`
	// ExpiresAt is in ms since the epoch; 0 means it does not expire.
	ExpiresAt int64 `gorm:"not null;default:0"`
	// RefreshTokenHash links a token to the refresh token that may replace it.
	RefreshTokenHash string `gorm:"size:64;not null;default:'';index"`
	CreatedAt        int64  `gorm:"not null"`
}

func (accessTokenV1) TableName() string { return "access_tokens" }

type refreshTokenV1 struct {
	TokenHash string `gorm:"primaryKey;size:64"`
	UserID    string `gorm:"size:255;not null;index:idx_refresh_tokens_device"`
	DeviceID  string `gorm:"size:255;not null;index:idx_refresh_tokens_device"`
	ExpiresAt int64  `gorm:"not null;default:0"`
	// PrevTokenHash is the refresh token this one replaced, revoked when
	// this one (or its access token) is first used.
	PrevTokenHash string `gorm:"size:64;not null;default:''"`
	CreatedAt     int64  `gorm:"not null"`
}

func (refreshTokenV1) TableName() string { return "refresh_tokens" }

type loginTokenV1 struct {
	TokenHash string `gorm:"primaryKey;size:64"`
	UserID    string `gorm:"size:255;not null;index"`
	ExpiresAt int64  `gorm:"not null"`
}

func (loginTokenV1) TableName() string { return "login_tokens" }

type profileV1 struct {
	UserID      string `gorm:"primaryKey;size:255"`
	DisplayName string `gorm:"size:1024"`
	AvatarURL   string `gorm:"size:1024"`
}

func (profileV1) TableName() string { return "profiles" }

// accountDataV1: RoomID is "" for global account data.
type accountDataV1 struct {
	UserID    string `gorm:"primaryKey;size:255"`
	RoomID    string `gorm:"primaryKey;size:255"`
	Type      string `gorm:"primaryKey;size:255"`
	Content   string `gorm:"type:text;not null"`
	StreamPos int64  `gorm:"not null;index:idx_account_data_stream"`
}

func (accountDataV1) TableName() string { return "account_data" }

func accountsV1(tx *gorm.DB) error {
	return tx.Migrator().CreateTable(&userV1{}, &deviceV1{}, &accessTokenV1{}, &refreshTokenV1{},
		&loginTokenV1{}, &profileV1{}, &accountDataV1{})
}
