package models

// Room is one room this server knows: its version (which decides event
// format, auth rules and state resolution), its creator, whether it is listed
// in the public room directory, and the state snapshot after its forward
// extremities (its current state).
type Room struct {
	RoomID      string `gorm:"primaryKey;size:255"`
	Version     string `gorm:"size:32;not null"`
	Creator     string `gorm:"size:255;not null"`
	IsPublic    bool   `gorm:"not null;default:false;index"`
	SnapshotNID int64  `gorm:"column:snapshot_nid;not null;default:0"`
	CreatedAt   int64  `gorm:"not null"`
}

func (Room) TableName() string { return "rooms" }

// RoomAlias maps a local alias to a room (client-server-api "Room aliases").
type RoomAlias struct {
	Alias     string `gorm:"primaryKey;size:255"`
	RoomID    string `gorm:"size:255;not null;index"`
	Creator   string `gorm:"size:255;not null"`
	CreatedAt int64  `gorm:"not null"`
}

func (RoomAlias) TableName() string { return "room_aliases" }

// ForwardExtremity is an event of the room that no known event references
// yet: the prev_events of the next event (server-server-api "PDUs").
type ForwardExtremity struct {
	RoomID  string `gorm:"primaryKey;size:255"`
	EventID string `gorm:"primaryKey;size:255"`
}

func (ForwardExtremity) TableName() string { return "room_forward_extremities" }

// TxnID remembers which event a client transaction produced, so a retried
// request returns the same event (client-server-api "Transaction
// identifiers": scoped to the device and the HTTP endpoint; Scope names the
// endpoint path without the transaction ID).
type TxnID struct {
	UserID    string `gorm:"primaryKey;size:255"`
	DeviceID  string `gorm:"primaryKey;size:255"`
	Scope     string `gorm:"primaryKey;size:255"`
	TxnID     string `gorm:"primaryKey;size:255"`
	EventID   string `gorm:"size:255;not null;index:idx_event_txn_ids_event"`
	CreatedAt int64  `gorm:"not null"`
}

func (TxnID) TableName() string { return "event_txn_ids" }

// ForgottenRoom marks a room a user forgot (client-server-api "Leaving
// rooms"): it no longer appears in the user's sync or room lists until they
// are in it again.
type ForgottenRoom struct {
	UserID      string `gorm:"primaryKey;size:255"`
	RoomID      string `gorm:"primaryKey;size:255"`
	ForgottenAt int64  `gorm:"not null"`
}

func (ForgottenRoom) TableName() string { return "forgotten_rooms" }

// Report is a user's report of an event or a room to the server admins
// (client-server-api "Reporting content"); EventID is "" for a room report.
type Report struct {
	ReportID  int64  `gorm:"primaryKey;autoIncrement"`
	RoomID    string `gorm:"size:255;not null;index"`
	EventID   string `gorm:"size:255;not null;default:''"`
	Reporter  string `gorm:"size:255;not null"`
	Reason    string `gorm:"type:text;not null;default:''"`
	Score     *int64
	CreatedAt int64 `gorm:"not null"`
}

func (Report) TableName() string { return "content_reports" }
