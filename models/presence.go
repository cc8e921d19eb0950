package models

// PresenceState is a user's last presence (client-server-api "Presence"),
// kept so a restart does not forget status messages. StreamPos is the
// presence stream position of the last change, so sync tokens stay
// meaningful across the restart.
type PresenceState struct {
	UserID       string  `gorm:"primaryKey;size:255"`
	Presence     string  `gorm:"size:16;not null"`
	StatusMsg    *string `gorm:"type:text"`
	LastActiveTS int64   `gorm:"not null"`
	StreamPos    int64   `gorm:"not null"`
}

func (PresenceState) TableName() string { return "presence" }
