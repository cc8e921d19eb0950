package models

// EventRelation is one child event's m.relates_to (client-server-api
// "Forming relationships between events"): EventID relates to RelatesTo
// with RelType.
type EventRelation struct {
	EventID        string `gorm:"primaryKey"`
	RoomID         string
	RelatesTo      string
	RelType        string
	Type           string
	Sender         string
	OriginServerTS int64
	StreamPos      int64
}

func (EventRelation) TableName() string { return "event_relations" }

// EventSearch is one searchable event (client-server-api "Server Side
// Search"); the text index itself is dialect-specific (see store).
type EventSearch struct {
	EventNID       int64 `gorm:"column:event_nid;primaryKey;autoIncrement:false"`
	EventID        string
	RoomID         string
	Sender         string
	Key            string
	OriginServerTS int64
	StreamPos      int64
}

func (EventSearch) TableName() string { return "event_search" }
