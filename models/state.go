package models

// Room state is stored as deduplicated snapshots. The (type, state_key) space
// of a room is split into a fixed number of buckets by hash; a StateBlock
// holds the entries of one bucket and is content-addressed (Hash), so equal
// blocks are stored once; a StateSnapshot lists the block of every non-empty
// bucket. A state event writes one new block and one new snapshot; every
// other bucket's block is shared with the parent snapshot. The encodings live
// in models/store (state_codec.go).

// StateBlock is one bucket's (type, state_key) -> event NID entries.
type StateBlock struct {
	BlockNID int64  `gorm:"column:block_nid;primaryKey"`
	Hash     string `gorm:"size:64;not null;uniqueIndex"`
	Entries  []byte `gorm:"not null"`
}

func (StateBlock) TableName() string { return "state_blocks" }

// StateSnapshot is the full state of a room at some point: bucket -> block.
type StateSnapshot struct {
	SnapshotNID int64  `gorm:"column:snapshot_nid;primaryKey"`
	RoomID      string `gorm:"size:255;not null;index"`
	Hash        string `gorm:"size:64;not null;uniqueIndex"`
	Blocks      []byte `gorm:"not null"`
}

func (StateSnapshot) TableName() string { return "state_snapshots" }

// CurrentState is the room's current state, one row per (type, state_key),
// kept in step with Room.SnapshotNID in the same transaction. It answers
// "joined members" and "rooms of a user" without decoding snapshots.
type CurrentState struct {
	RoomID     string `gorm:"primaryKey;size:255"`
	Type       string `gorm:"primaryKey;size:255;index:idx_current_state_user,priority:2"`
	StateKey   string `gorm:"primaryKey;size:255;index:idx_current_state_user,priority:1"`
	EventNID   int64  `gorm:"column:event_nid;not null"`
	EventID    string `gorm:"size:255;not null"`
	Membership string `gorm:"size:32;not null;default:''"`
}

func (CurrentState) TableName() string { return "current_state" }
