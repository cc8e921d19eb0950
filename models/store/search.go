package store

import (
	"context"
	"strings"
	"unicode"

	"gorm.io/gorm"
)

// SearchQuery is one page of a full-text search over room events
// (client-server-api "Server Side Search").
type SearchQuery struct {
	// Words are the search term's words; every one must match.
	Words []string
	// Rooms limits the search (the rooms the user may read); required.
	Rooms []string
	// Keys are content.body, content.name, content.topic.
	Keys []string
	// Senders / NotSenders narrow by sender (nil: any).
	Senders, NotSenders []string
	// Recent orders newest first; otherwise by rank, best first.
	Recent bool
	// Before bounds stream_pos exclusively for recent order (0: none);
	// Offset skips hits for rank order.
	Before int64
	Offset int
	Limit  int
}

// SearchHit is one matching event.
type SearchHit struct {
	EventNID  int64
	EventID   string
	RoomID    string
	Sender    string
	StreamPos int64
	// Rank: higher is closer.
	Rank float64
}

// SearchWords splits a search term into the words both engines index
// (letters and digits), lower-cased; the engines' query syntax never
// reaches them, so no term is an injection or a syntax error.
func SearchWords(term string) []string {
	return strings.FieldsFunc(strings.ToLower(term), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r)
	})
}

// Search returns one page of hits and the number of hits in all.
func (s *Store) Search(ctx context.Context, q SearchQuery) ([]SearchHit, int64, error) {
	if len(q.Words) == 0 || len(q.Rooms) == 0 || len(q.Keys) == 0 {
		return nil, 0, nil
	}
	base := s.searchBase(ctx, q)
	var count int64
	if err := base.Session(&gorm.Session{}).Count(&count).Error; err != nil {
		return nil, 0, mapErr("count search hits", err)
	}
	page := base.Session(&gorm.Session{})
	if q.Recent {
		if q.Before > 0 {
			page = page.Where("s.stream_pos < ?", q.Before)
		}
		page = page.Order("s.stream_pos DESC")
	} else {
		page = page.Order("rank DESC, s.stream_pos DESC").Offset(q.Offset)
	}
	var hits []SearchHit
	rank, args := s.rankExpr(q.Words)
	err := page.Select("s.event_nid, s.event_id, s.room_id, s.sender, s.stream_pos, "+rank, args...).
		Limit(q.Limit).Scan(&hits).Error
	return hits, count, mapErr("search events", err)
}

// searchBase is the dialect's match plus the common filters. This and
// rankExpr are the search index's one explicit dialect switch.
func (s *Store) searchBase(ctx context.Context, q SearchQuery) *gorm.DB {
	var db *gorm.DB
	if s.dialect == Postgres {
		db = s.q(ctx).Table("event_search AS s").
			Where("s.vec @@ to_tsquery('simple', ?)", postgresQuery(q.Words))
	} else {
		db = s.q(ctx).Table("event_search_fts").
			Joins("JOIN event_search AS s ON s.event_nid = event_search_fts.rowid").
			Where("event_search_fts MATCH ?", fts5Query(q.Words))
	}
	db = db.Where("s.room_id IN ? AND s.key IN ?", q.Rooms, q.Keys)
	if q.Senders != nil {
		db = db.Where("s.sender IN ?", q.Senders)
	}
	if len(q.NotSenders) > 0 {
		db = db.Where("s.sender NOT IN ?", q.NotSenders)
	}
	return db
}

func (s *Store) rankExpr(words []string) (string, []any) {
	if s.dialect == Postgres {
		return "ts_rank(s.vec, to_tsquery('simple', ?)) AS rank", []any{postgresQuery(words)}
	}
	return "-bm25(event_search_fts) AS rank", nil
}

// postgresQuery ANDs the words as tsquery lexemes ('w1' & 'w2').
func postgresQuery(words []string) string {
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = "'" + w + "'"
	}
	return strings.Join(quoted, " & ")
}

// fts5Query ANDs the words as FTS5 strings ("w1" "w2").
func fts5Query(words []string) string {
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = `"` + w + `"`
	}
	return strings.Join(quoted, " ")
}
