package models

// PushRule is a user-defined push rule (client-server-api "Push Rules").
// Position orders the user's rules of one kind (lower checks first).
// Conditions and Actions are JSON arrays; Pattern is for content rules.
type PushRule struct {
	UserID     string  `gorm:"primaryKey;size:255"`
	Kind       string  `gorm:"primaryKey;size:32"`
	RuleID     string  `gorm:"primaryKey;size:255"`
	Position   int64   `gorm:"not null"`
	Enabled    bool    `gorm:"not null"`
	Conditions string  `gorm:"type:text;not null"`
	Pattern    *string `gorm:"type:text"`
	Actions    string  `gorm:"type:text;not null"`
}

func (PushRule) TableName() string { return "push_rules" }

// PushRuleDefault records a user's change to a server-default rule: its
// enabled flag and/or actions (nil keeps the default).
type PushRuleDefault struct {
	UserID  string `gorm:"primaryKey;size:255"`
	Kind    string `gorm:"primaryKey;size:32"`
	RuleID  string `gorm:"primaryKey;size:255"`
	Enabled *bool
	Actions *string `gorm:"type:text"`
}

func (PushRuleDefault) TableName() string { return "push_rule_defaults" }

// Pusher is a registered pusher (client-server-api "Pushers"), unique per
// app_id and pushkey for a user. Data is the pusher's data object as JSON.
type Pusher struct {
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

func (Pusher) TableName() string { return "pushers" }

// Notification is an event that a user's push rules said to notify about
// (GET /notifications, unread counts). StreamPos is the event's global
// stream position; a read receipt at or after it makes it read.
type Notification struct {
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

func (Notification) TableName() string { return "notifications" }
