package models

// Filter is a stored client filter (client-server-api "Filtering"). The ID
// is per user; Filter is the JSON the client uploaded.
type Filter struct {
	UserID   string `gorm:"primaryKey;size:255"`
	FilterID int64  `gorm:"primaryKey;autoIncrement:false"`
	Filter   string `gorm:"type:text;not null"`
}

func (Filter) TableName() string { return "sync_filters" }

// Receipt is a user's latest receipt of one type in a room and thread
// (client-server-api "Receipts"; ThreadID "" is the unthreaded receipt).
// StreamPos orders receipt changes for /sync.
type Receipt struct {
	RoomID    string `gorm:"primaryKey;size:255"`
	Type      string `gorm:"primaryKey;size:64"`
	UserID    string `gorm:"primaryKey;size:255"`
	ThreadID  string `gorm:"primaryKey;size:255"`
	EventID   string `gorm:"size:255;not null"`
	TS        int64  `gorm:"column:ts;not null"`
	StreamPos int64  `gorm:"not null"`
}

func (Receipt) TableName() string { return "receipts" }
