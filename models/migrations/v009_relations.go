package migrations

import "gorm.io/gorm"

// Frozen row shapes of migration 9: event relationships (client-server-api
// "Forming relationships between events") and the full-text search index
// ("Server Side Search"). Do not change; add a new migration instead.

// eventRelationV9 is one child event's m.relates_to: the event (EventID)
// relates to RelatesTo with RelType. Rows are written in the transaction
// that stores the child and deleted when it is redacted.
type eventRelationV9 struct {
	EventID        string `gorm:"primaryKey;size:255"`
	RoomID         string `gorm:"size:255;not null;index:idx_event_relations_room,priority:1"`
	RelatesTo      string `gorm:"size:255;not null;index:idx_event_relations_parent,priority:1"`
	RelType        string `gorm:"size:255;not null;index:idx_event_relations_parent,priority:2;index:idx_event_relations_room,priority:2"`
	Type           string `gorm:"size:255;not null"`
	Sender         string `gorm:"size:255;not null"`
	OriginServerTS int64  `gorm:"not null"`
	StreamPos      int64  `gorm:"not null;index:idx_event_relations_parent,priority:3;index:idx_event_relations_room,priority:3"`
}

func (eventRelationV9) TableName() string { return "event_relations" }

// eventSearchV9 is one searchable event: its room, sender, order columns and
// which key (content.body, content.name, content.topic) is indexed. The text
// itself lives in a dialect-specific index: a tsvector column with a GIN
// index on PostgreSQL, an FTS5 table keyed by event_nid on SQLite.
type eventSearchV9 struct {
	EventNID       int64  `gorm:"column:event_nid;primaryKey;autoIncrement:false"`
	EventID        string `gorm:"size:255;not null;uniqueIndex"`
	RoomID         string `gorm:"size:255;not null;index:idx_event_search_room,priority:1"`
	Sender         string `gorm:"size:255;not null"`
	Key            string `gorm:"size:32;not null"`
	OriginServerTS int64  `gorm:"not null"`
	StreamPos      int64  `gorm:"not null;index:idx_event_search_room,priority:2"`
}

func (eventSearchV9) TableName() string { return "event_search" }

func relationsV9(tx *gorm.DB) error {
	if err := tx.Migrator().CreateTable(&eventRelationV9{}, &eventSearchV9{}); err != nil {
		return err
	}
	// The one dialect switch of the search index (house rule 12).
	if tx.Dialector.Name() == "postgres" {
		if err := tx.Exec(`ALTER TABLE event_search ADD COLUMN vec tsvector NOT NULL DEFAULT ''::tsvector`).Error; err != nil {
			return err
		}
		return tx.Exec(`CREATE INDEX idx_event_search_vec ON event_search USING GIN (vec)`).Error
	}
	return tx.Exec(`CREATE VIRTUAL TABLE event_search_fts USING fts5(value, tokenize = 'unicode61 remove_diacritics 2')`).Error
}
