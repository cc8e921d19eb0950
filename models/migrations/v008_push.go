package migrations

import "gorm.io/gorm"

// Frozen row shapes of migration 8 (push rules, pushers, notifications).
// Do not change; add a new migration instead.

type pushRuleV8 struct {
	UserID     string  `gorm:"primaryKey;size:255"`
	Kind       string  `gorm:"primaryKey;size:32"`
	RuleID     string  `gorm:"primaryKey;size:255"`
	Position   int64   `gorm:"not null"`
	Enabled    bool    `gorm:"not null"`
	Conditions string  `gorm:"type:text;not null"`
	Pattern    *string `gorm:"type:text"`
	Actions    string  `gorm:"type:text;not null"`
}

func (pushRuleV8) TableName() string { return "push_rules" }

type pushRuleDefaultV8 struct {
	UserID  string `gorm:"primaryKey;size:255"`
	Kind    string `gorm:"primaryKey;size:32"`
	RuleID  string `gorm:"primaryKey;size:255"`
	Enabled *bool
	Actions *string `gorm:"type:text"`
}

func (pushRuleDefaultV8) TableName() string { return "push_rule_defaults" }

type pusherV8 struct {
	UserID            string `gorm:"primaryKey;size:255"`
	AppID             string `gorm:"primaryKey;size:64"`
	Pushkey           string `gorm:"primaryKey;size:512"`
	Kind              string `gorm:"size:32;not null"`
	AppDisplayName    string `gorm:"type:text;not null"`
	DeviceDisplayName string `gorm:"type:text;not null"`
	ProfileTag        string `gorm:"size:255;not null;default:''"`
	Lang              string `gorm:"size:32;not null"`
	Data              string `gorm:"type:text;not null"`
	DeviceID          string `gorm:"size:255;not null;default:''"`
	CreatedAt         int64  `gorm:"not null"`
}

func (pusherV8) TableName() string { return "pushers" }

type notificationV8 struct {
	ID        int64  `gorm:"primaryKey;autoIncrement"`
	UserID    string `gorm:"size:255;not null;index:idx_notifications_user_room,priority:1;index:idx_notifications_user_id,priority:1"`
	RoomID    string `gorm:"size:255;not null;index:idx_notifications_user_room,priority:2"`
	StreamPos int64  `gorm:"not null;index:idx_notifications_user_room,priority:3"`
	EventID   string `gorm:"size:255;not null"`
	ThreadID  string `gorm:"size:255;not null;default:''"`
	Highlight bool   `gorm:"not null"`
	Actions   string `gorm:"type:text;not null"`
	TS        int64  `gorm:"column:ts;not null"`
}

func (notificationV8) TableName() string { return "notifications" }

func pushV8(tx *gorm.DB) error {
	return tx.Migrator().CreateTable(&pushRuleV8{}, &pushRuleDefaultV8{}, &pusherV8{}, &notificationV8{})
}
