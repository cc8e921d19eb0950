package migrations

import "gorm.io/gorm"

// Frozen row shapes of migration 2: rooms, events and state snapshots. Do not
// change; add a new migration instead.

type roomV2 struct {
	RoomID      string `gorm:"primaryKey;size:255"`
	Version     string `gorm:"size:32;not null"`
	Creator     string `gorm:"size:255;not null"`
	IsPublic    bool   `gorm:"not null;default:false;index"`
	SnapshotNID int64  `gorm:"column:snapshot_nid;not null;default:0"`
	CreatedAt   int64  `gorm:"not null"`
}

func (roomV2) TableName() string { return "rooms" }

type roomAliasV2 struct {
	Alias     string `gorm:"primaryKey;size:255"`
	RoomID    string `gorm:"size:255;not null;index"`
	Creator   string `gorm:"size:255;not null"`
	CreatedAt int64  `gorm:"not null"`
}

func (roomAliasV2) TableName() string { return "room_aliases" }

type forwardExtremityV2 struct {
	RoomID  string `gorm:"primaryKey;size:255"`
	EventID string `gorm:"primaryKey;size:255"`
}

func (forwardExtremityV2) TableName() string { return "room_forward_extremities" }

type txnIDV2 struct {
	UserID    string `gorm:"primaryKey;size:255"`
	DeviceID  string `gorm:"primaryKey;size:255"`
	RoomID    string `gorm:"primaryKey;size:255"`
	TxnID     string `gorm:"primaryKey;size:255"`
	EventID   string `gorm:"size:255;not null"`
	CreatedAt int64  `gorm:"not null"`
}

func (txnIDV2) TableName() string { return "event_txn_ids" }

type eventV2 struct {
	EventNID       int64   `gorm:"column:event_nid;primaryKey;autoIncrement:false"`
	EventID        string  `gorm:"size:255;not null;uniqueIndex"`
	RoomID         string  `gorm:"size:255;not null;index:idx_events_room_stream,priority:1;index:idx_events_room_topo,priority:1;index:idx_events_room_ts,priority:1"`
	Type           string  `gorm:"size:255;not null;index:idx_events_state_key,priority:2"`
	StateKey       *string `gorm:"size:255;index:idx_events_state_key,priority:1"`
	Sender         string  `gorm:"size:255;not null"`
	Membership     string  `gorm:"size:32;not null;default:''"`
	Depth          int64   `gorm:"not null;index:idx_events_room_topo,priority:2"`
	OriginServerTS int64   `gorm:"not null;index:idx_events_room_ts,priority:2"`
	StreamPos      int64   `gorm:"not null;index:idx_events_stream;index:idx_events_room_stream,priority:2;index:idx_events_room_topo,priority:3"`
	JSON           string  `gorm:"type:text;not null"`
	Rejected       bool    `gorm:"not null;default:false"`
	SoftFailed     bool    `gorm:"not null;default:false"`
	RedactedBy     string  `gorm:"size:255;not null;default:''"`
	StateBefore    int64   `gorm:"not null;default:0"`
	StateAfter     int64   `gorm:"not null;default:0"`
}

func (eventV2) TableName() string { return "events" }

type stateBlockV2 struct {
	BlockNID int64  `gorm:"column:block_nid;primaryKey"`
	Hash     string `gorm:"size:64;not null;uniqueIndex"`
	Entries  []byte `gorm:"not null"`
}

func (stateBlockV2) TableName() string { return "state_blocks" }

type stateSnapshotV2 struct {
	SnapshotNID int64  `gorm:"column:snapshot_nid;primaryKey"`
	RoomID      string `gorm:"size:255;not null;index"`
	Hash        string `gorm:"size:64;not null;uniqueIndex"`
	Blocks      []byte `gorm:"not null"`
}

func (stateSnapshotV2) TableName() string { return "state_snapshots" }

type currentStateV2 struct {
	RoomID     string `gorm:"primaryKey;size:255"`
	Type       string `gorm:"primaryKey;size:255;index:idx_current_state_user,priority:2"`
	StateKey   string `gorm:"primaryKey;size:255;index:idx_current_state_user,priority:1"`
	EventNID   int64  `gorm:"column:event_nid;not null"`
	EventID    string `gorm:"size:255;not null"`
	Membership string `gorm:"size:32;not null;default:''"`
}

func (currentStateV2) TableName() string { return "current_state" }

func roomsV2(tx *gorm.DB) error {
	return tx.Migrator().CreateTable(&roomV2{}, &roomAliasV2{}, &forwardExtremityV2{}, &txnIDV2{}, &eventV2{}, &stateBlockV2{}, &stateSnapshotV2{}, &currentStateV2{})
}
