// Package search is server-side search: full-text search over the room
// events a user may read (client-server-api "Server Side Search";
// search.yaml) and the user directory (users.yaml).
package search

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/kabarchat/kabar/clientapi/clientevent"
	clientsync "github.com/kabarchat/kabar/clientapi/sync"
	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// Service answers searches.
type Service struct {
	Rooms  *rooms.Service
	Sync   *clientsync.Syncer
	Format *clientevent.Formatter
	// SearchAllUsers makes the user directory list every local user, not
	// only those sharing a room with the searcher or in public rooms.
	SearchAllUsers bool
}

// Request is the body of POST /search.
type Request struct {
	SearchCategories struct {
		RoomEvents *RoomEventsCriteria `json:"room_events"`
	} `json:"search_categories"`
}

// RoomEventsCriteria is search.yaml's "Room Events Criteria".
type RoomEventsCriteria struct {
	SearchTerm   *string           `json:"search_term"`
	Keys         []string          `json:"keys"`
	Filter       json.RawMessage   `json:"filter"`
	OrderBy      string            `json:"order_by"`
	EventContext *EventContextSpec `json:"event_context"`
	IncludeState bool              `json:"include_state"`
	Groupings    *struct {
		GroupBy []GroupBy `json:"group_by"`
	} `json:"groupings"`
}

// EventContextSpec asks for the events around each result.
type EventContextSpec struct {
	BeforeLimit    *int `json:"before_limit"`
	AfterLimit     *int `json:"after_limit"`
	IncludeProfile bool `json:"include_profile"`
}

// GroupBy is one grouping key: room_id or sender.
type GroupBy struct {
	Key string `json:"key"`
}

// Response is the 200 body.
type Response struct {
	SearchCategories struct {
		RoomEvents *RoomEventsResult `json:"room_events,omitempty"`
	} `json:"search_categories"`
}

// RoomEventsResult is search.yaml's "Result Room Events".
type RoomEventsResult struct {
	Count      int64                          `json:"count"`
	Highlights []string                       `json:"highlights"`
	Results    []Result                       `json:"results"`
	State      map[string][]clientevent.Event `json:"state,omitempty"`
	Groups     map[string]map[string]*Group   `json:"groups,omitempty"`
	NextBatch  string                         `json:"next_batch,omitempty"`
}

// Result is one matching event.
type Result struct {
	Rank    float64           `json:"rank"`
	Result  clientevent.Event `json:"result"`
	Context *Context          `json:"context,omitempty"`
}

// Context is the events around a result.
type Context struct {
	Start        string              `json:"start,omitempty"`
	End          string              `json:"end,omitempty"`
	ProfileInfo  map[string]Profile  `json:"profile_info,omitempty"`
	EventsBefore []clientevent.Event `json:"events_before"`
	EventsAfter  []clientevent.Event `json:"events_after"`
}

// Profile is a sender's display name and avatar.
type Profile struct {
	DisplayName string `json:"displayname,omitempty"`
	AvatarURL   string `json:"avatar_url,omitempty"`
}

// Group is the results of one group value.
type Group struct {
	Order   int      `json:"order"`
	Results []string `json:"results"`
}

const (
	defaultLimit = 10
	maxLimit     = 100
	defaultCtx   = 5
	maxCtx       = 50
)

var allKeys = []string{"content.body", "content.name", "content.topic"}

// Search runs a search for userID; nextBatch is the query parameter.
func (s *Service) Search(ctx context.Context, userID, deviceID, nextBatch string, req *Request) (*Response, error) {
	c := req.SearchCategories.RoomEvents
	resp := &Response{}
	if c == nil {
		if nextBatch != "" {
			return nil, spec.InvalidParam("next_batch does not match the search")
		}
		return resp, nil
	}
	q, f, err := s.query(ctx, userID, nextBatch, c)
	if err != nil {
		return nil, err
	}
	hits, count, err := s.Rooms.Store().Search(ctx, q)
	if err != nil {
		return nil, err
	}
	out := &RoomEventsResult{Count: count, Highlights: q.Words, Results: []Result{}}
	if len(hits) == q.Limit {
		out.NextBatch = next(q, hits)
	}
	v := clientevent.Viewer{UserID: userID, DeviceID: deviceID}
	if err := s.results(ctx, v, hits, f, c, out); err != nil {
		return nil, err
	}
	resp.SearchCategories.RoomEvents = out
	return resp, nil
}

// query validates the criteria and builds the store query.
func (s *Service) query(ctx context.Context, userID, nextBatch string, c *RoomEventsCriteria) (store.SearchQuery, *clientsync.RoomEventFilter, error) {
	var q store.SearchQuery
	if c.SearchTerm == nil {
		return q, nil, spec.MissingParam("search_term is required")
	}
	q.Words = store.SearchWords(*c.SearchTerm)
	switch c.OrderBy {
	case "", "rank":
	case "recent":
		q.Recent = true
	default:
		return q, nil, spec.InvalidParam("order_by must be rank or recent")
	}
	q.Keys = allKeys
	if c.Keys != nil {
		for _, k := range c.Keys {
			if k != "content.body" && k != "content.name" && k != "content.topic" {
				return q, nil, spec.InvalidParam("unknown search key %q", k)
			}
		}
		q.Keys = c.Keys
	}
	for _, g := range groupings(c) {
		if g.Key != "room_id" && g.Key != "sender" {
			return q, nil, spec.InvalidParam("unknown group key %q", g.Key)
		}
	}
	f, err := parseFilter(c.Filter)
	if err != nil {
		return q, nil, err
	}
	q.Limit = defaultLimit
	if f != nil {
		q.Limit = min(max(f.LimitOr(defaultLimit), 1), maxLimit)
		if f.Senders != nil {
			q.Senders = *f.Senders
		}
		q.NotSenders = f.NotSenders
	}
	if err := parseNext(&q, nextBatch); err != nil {
		return q, nil, err
	}
	q.Rooms, err = s.readableRooms(ctx, userID, f)
	return q, f, err
}

func groupings(c *RoomEventsCriteria) []GroupBy {
	if c.Groupings == nil {
		return nil
	}
	return c.Groupings.GroupBy
}

func parseFilter(raw json.RawMessage) (*clientsync.RoomEventFilter, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	f, err := clientsync.ParseRoomEventFilter(raw)
	if err != nil {
		return nil, spec.BadJSON("%v", err)
	}
	return f, nil
}

// readableRooms are the rooms the user is joined to, narrowed by the
// filter; history visibility then decides per event.
func (s *Service) readableRooms(ctx context.Context, userID string, f *clientsync.RoomEventFilter) ([]string, error) {
	ms, err := s.Rooms.Store().UserMemberships(ctx, userID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range ms {
		if m.Membership == "join" && (f == nil || roomAllowed(f, m.RoomID)) {
			out = append(out, m.RoomID)
		}
	}
	return out, nil
}

func roomAllowed(f *clientsync.RoomEventFilter, roomID string) bool {
	if f.Rooms != nil && !contains(*f.Rooms, roomID) {
		return false
	}
	return !contains(f.NotRooms, roomID)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// next_batch is "k<offset>" for rank order and "p<stream position>" for
// recent order: the recent order resumes below the last hit even when new
// events arrive meanwhile.
func next(q store.SearchQuery, hits []store.SearchHit) string {
	if q.Recent {
		return "p" + strconv.FormatInt(hits[len(hits)-1].StreamPos, 10)
	}
	return "k" + strconv.Itoa(q.Offset+len(hits))
}

func parseNext(q *store.SearchQuery, tok string) error {
	if tok == "" {
		return nil
	}
	bad := spec.InvalidParam("invalid next_batch")
	want := "k"
	if q.Recent {
		want = "p"
	}
	rest, ok := strings.CutPrefix(tok, want)
	if !ok {
		return bad
	}
	n, err := strconv.ParseInt(rest, 10, 64)
	if err != nil || n < 1 || n > 1<<40 {
		return bad
	}
	if q.Recent {
		q.Before = n
	} else {
		q.Offset = int(n)
	}
	return nil
}

// loadHits loads the hit events the user may see, in hit order.
func (s *Service) loadHits(ctx context.Context, userID string, hits []store.SearchHit, f *clientsync.RoomEventFilter) ([]models.Event, []float64, error) {
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.EventID
	}
	rows, err := s.Rooms.Store().EventsByID(ctx, ids)
	if err != nil {
		return nil, nil, fmt.Errorf("load search hits: %w", err)
	}
	byID := map[string]models.Event{}
	for _, r := range rows {
		byID[r.EventID] = r
	}
	var out []models.Event
	var ranks []float64
	for _, h := range hits {
		r, ok := byID[h.EventID]
		if !ok || (f != nil && !f.AllowsEvent(r.RoomID, r.Type, r.Sender, false)) {
			continue
		}
		visible, err := s.Rooms.CanSee(ctx, userID, r)
		if err != nil {
			return nil, nil, err
		}
		if visible {
			out = append(out, r)
			ranks = append(ranks, h.Rank)
		}
	}
	return out, ranks, nil
}
