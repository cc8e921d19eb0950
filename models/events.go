package models

// Event is one room event (PDU), stored once: its canonical JSON plus the
// columns that /sync, /messages, /context and membership queries filter on.
//
// EventNID is the internal numeric ID that state blocks refer to. StreamPos
// is the global stream position /sync orders by (0 for events that are not
// part of the live timeline, such as rejected events and outliers); Depth
// followed by StreamPos is the topological order /messages pages through.
// StateBefore/StateAfter are state snapshot NIDs.
type Event struct {
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

func (Event) TableName() string { return "events" }

// IsState tells whether the event is a state event (it has a state_key).
func (e *Event) IsState() bool { return e.StateKey != nil }
