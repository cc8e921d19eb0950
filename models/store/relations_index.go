package store

import (
	"context"
	"encoding/json"
	"fmt"

	"gorm.io/gorm/clause"

	"github.com/kabarchat/kabar/models"
)

// indexRoomWrite records the relations and search text of a batch's timeline
// events, and forgets those of the events it redacts. WriteRoom calls it in
// the same transaction, so the indexes never disagree with the events.
func (s *Store) indexRoomWrite(ctx context.Context, w *RoomWrite) error {
	var rels []models.EventRelation
	var docs []searchDoc
	for _, e := range w.Events {
		if e.StreamPos == 0 || e.Rejected || e.SoftFailed {
			continue // not part of the timeline: nothing to aggregate or find
		}
		c := parseIndexContent(e.JSON)
		if r := c.relation(e); r != nil {
			rels = append(rels, *r)
		}
		if d, ok := c.searchDoc(e); ok {
			docs = append(docs, d)
		}
	}
	if len(rels) > 0 {
		err := s.q(ctx).Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rels, batchSize).Error
		if err != nil {
			return mapErr("index relations of "+w.RoomID, err)
		}
	}
	if err := s.indexSearch(ctx, docs); err != nil {
		return err
	}
	return s.unindexRedacted(ctx, w.Redactions)
}

// indexContent is the part of an event's content the indexes read.
type indexContent struct {
	Content struct {
		RelatesTo *struct {
			RelType string `json:"rel_type"`
			EventID string `json:"event_id"`
		} `json:"m.relates_to"`
		Body  any `json:"body"`
		Name  any `json:"name"`
		Topic any `json:"topic"`
	} `json:"content"`
}

func parseIndexContent(raw string) indexContent {
	var c indexContent
	_ = json.Unmarshal([]byte(raw), &c) // stored events are valid JSON; odd shapes index nothing
	return c
}

// relation is the event's m.relates_to, if it names a rel_type and a parent
// (a bare m.in_reply_to is a reply, not a relationship: "Rich replies").
func (c indexContent) relation(e models.Event) *models.EventRelation {
	rt := c.Content.RelatesTo
	if rt == nil || rt.RelType == "" || rt.EventID == "" || len(rt.RelType) > 255 || len(rt.EventID) > 255 {
		return nil
	}
	return &models.EventRelation{EventID: e.EventID, RoomID: e.RoomID, RelatesTo: rt.EventID, RelType: rt.RelType,
		Type: e.Type, Sender: e.Sender, OriginServerTS: e.OriginServerTS, StreamPos: e.StreamPos}
}

// searchDoc picks the searchable key of the event (search.yaml "keys":
// content.body of messages, content.name and content.topic of the room's
// name and topic).
func (c indexContent) searchDoc(e models.Event) (searchDoc, bool) {
	var key string
	var v any
	switch {
	case e.Type == "m.room.message":
		key, v = "content.body", c.Content.Body
	case e.Type == "m.room.name" && e.StateKey != nil && *e.StateKey == "":
		key, v = "content.name", c.Content.Name
	case e.Type == "m.room.topic" && e.StateKey != nil && *e.StateKey == "":
		key, v = "content.topic", c.Content.Topic
	}
	text, ok := v.(string)
	if !ok || text == "" {
		return searchDoc{}, false
	}
	return searchDoc{row: models.EventSearch{EventNID: e.EventNID, EventID: e.EventID, RoomID: e.RoomID, Sender: e.Sender,
		Key: key, OriginServerTS: e.OriginServerTS, StreamPos: e.StreamPos}, text: text}, true
}

type searchDoc struct {
	row  models.EventSearch
	text string
}

// indexSearch writes the search rows and their text index.
func (s *Store) indexSearch(ctx context.Context, docs []searchDoc) error {
	if len(docs) == 0 {
		return nil
	}
	rows := make([]models.EventSearch, len(docs))
	for i, d := range docs {
		rows[i] = d.row
	}
	db := s.q(ctx)
	if err := db.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, batchSize).Error; err != nil {
		return mapErr("index search rows", err)
	}
	for _, d := range docs {
		var err error
		if s.dialect == Postgres {
			err = db.Exec("UPDATE event_search SET vec = to_tsvector('simple', ?) WHERE event_nid = ?", d.text, d.row.EventNID).Error
		} else {
			err = db.Exec("INSERT OR REPLACE INTO event_search_fts(rowid, value) VALUES (?, ?)", d.row.EventNID, d.text).Error
		}
		if err != nil {
			return mapErr(fmt.Sprintf("index text of %s", d.row.EventID), err)
		}
	}
	return nil
}

// unindexRedacted drops what redacted events contributed: a redaction
// strips content, so neither the relation nor the text remains
// (client-server-api "Redactions").
func (s *Store) unindexRedacted(ctx context.Context, redactions map[string]string) error {
	if len(redactions) == 0 {
		return nil
	}
	ids := make([]string, 0, len(redactions))
	for id := range redactions {
		ids = append(ids, id)
	}
	db := s.q(ctx)
	if err := db.Where("event_id IN ?", ids).Delete(&models.EventRelation{}).Error; err != nil {
		return mapErr("unindex redacted relations", err)
	}
	if s.dialect == SQLite {
		err := db.Exec("DELETE FROM event_search_fts WHERE rowid IN (SELECT event_nid FROM event_search WHERE event_id IN ?)", ids).Error
		if err != nil {
			return mapErr("unindex redacted text", err)
		}
	}
	if err := db.Where("event_id IN ?", ids).Delete(&models.EventSearch{}).Error; err != nil {
		return mapErr("unindex redacted search rows", err)
	}
	return nil
}
