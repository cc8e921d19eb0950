// Package relations serves the child events of an event and a room's
// threads (client-server-api "Forming relationships between events",
// "Threading"; relations.yaml, threads_list.yaml). The relationships are
// indexed by the store when events are written; the bundled aggregations
// are added by clientevent for every event served.
package relations

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/kabarchat/kabar/clientapi/clientevent"
	clientsync "github.com/kabarchat/kabar/clientapi/sync"
	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// Service answers relations and thread list requests.
type Service struct {
	Rooms  *rooms.Service
	Format *clientevent.Formatter
}

// Request is GET /rooms/{roomId}/relations/{eventId}[/{relType}[/{eventType}]].
type Request struct {
	UserID, DeviceID   string
	RoomID, EventID    string
	RelType, EventType string
	From, To           string
	Forwards           bool
	Limit              int
	Recurse            bool
}

// Response is the relations.yaml response body.
type Response struct {
	Chunk          []clientevent.Event `json:"chunk"`
	NextBatch      string              `json:"next_batch,omitempty"`
	PrevBatch      string              `json:"prev_batch,omitempty"`
	RecursionDepth *int                `json:"recursion_depth,omitempty"`
}

const (
	defaultLimit = 50
	maxLimit     = 500
	// maxDepth is how far recurse=true follows relationships (relations.yaml:
	// "at least 3 levels").
	maxDepth = 3
	// maxParents bounds the events a recursive walk collects.
	maxParents = 1000
)

// Relations pages through the children of a visible parent event.
func (s *Service) Relations(ctx context.Context, req Request) (*Response, error) {
	if err := s.visibleParent(ctx, req.UserID, req.RoomID, req.EventID); err != nil {
		return nil, err
	}
	q := store.RelationQuery{RoomID: req.RoomID, Parents: []string{req.EventID}, RelType: req.RelType,
		EventType: req.EventType, Backwards: !req.Forwards, Limit: clampLimit(req.Limit) + 1}
	if err := applyTokens(&q, req.From, req.To); err != nil {
		return nil, err
	}
	resp := &Response{Chunk: []clientevent.Event{}, PrevBatch: req.From}
	if req.Recurse {
		depth, parents, err := s.descendants(ctx, req.RoomID, req.EventID)
		if err != nil {
			return nil, err
		}
		q.Parents, resp.RecursionDepth = parents, &depth
	}
	rows, err := s.Rooms.Store().Relations(ctx, q)
	if err != nil {
		return nil, err
	}
	if len(rows) == q.Limit {
		rows = rows[:len(rows)-1]
		resp.NextBatch = gapAfter(rows[len(rows)-1], req.Forwards)
	}
	if rows, err = s.Rooms.FilterVisible(ctx, req.UserID, rows); err != nil {
		return nil, err
	}
	evs, err := s.Format.Rows(ctx, clientevent.Viewer{UserID: req.UserID, DeviceID: req.DeviceID}, rows)
	if err != nil {
		return nil, err
	}
	if evs != nil {
		resp.Chunk = evs
	}
	return resp, nil
}

// visibleParent answers 404 for a parent that is unknown, in another room
// or hidden by history visibility (relations.yaml 404).
func (s *Service) visibleParent(ctx context.Context, userID, roomID, eventID string) error {
	row, err := s.Rooms.Store().EventByID(ctx, eventID)
	// A rejected parent is never served (server-server-api "Rejection").
	if errors.Is(err, store.ErrNotFound) || (err == nil && (row.RoomID != roomID || row.Rejected)) {
		return spec.NotFound("event not found")
	}
	if err != nil {
		return err
	}
	visible, err := s.Rooms.CanSee(ctx, userID, row)
	if err != nil {
		return err
	}
	if !visible {
		return spec.NotFound("event not found")
	}
	return nil
}

// descendants collects the parent and the events relating to it up to
// maxDepth levels, and the depth actually reached.
func (s *Service) descendants(ctx context.Context, roomID, eventID string) (int, []string, error) {
	all, level := []string{eventID}, []string{eventID}
	seen := map[string]bool{eventID: true}
	depth := 0
	for depth < maxDepth && len(level) > 0 && len(all) < maxParents {
		children, err := s.Rooms.Store().ChildIDs(ctx, roomID, level, maxParents-len(all))
		if err != nil {
			return 0, nil, err
		}
		level = level[:0:0]
		for _, id := range children {
			if !seen[id] {
				seen[id] = true
				level = append(level, id)
			}
		}
		if len(level) == 0 {
			break
		}
		depth++
		all = append(all, level...)
	}
	// The children of the deepest level are at depth+1: the query reads
	// children of every collected event.
	return depth + 1, all, nil
}

func clampLimit(n int) int {
	if n <= 0 {
		return defaultLimit
	}
	return min(n, maxLimit)
}

// A token is the gap before stream position P: backwards pages return the
// events before it, forwards pages those at or after it. Tokens from
// /messages (t<depth>_<stream>) and /sync (s1_...) name gaps too.

func gapAfter(last models.Event, forwards bool) string {
	if forwards {
		return "r" + strconv.FormatInt(last.StreamPos+1, 10)
	}
	return "r" + strconv.FormatInt(last.StreamPos, 10)
}

func parseGap(tok string) (int64, error) {
	if rest, ok := strings.CutPrefix(tok, "r"); ok {
		// Backfilled events have negative positions, so any int64 names a
		// gap (the whole range is valid; there is no "unbounded" value).
		p, err := strconv.ParseInt(rest, 10, 64)
		if err != nil {
			return 0, spec.InvalidParam("invalid pagination token")
		}
		return p, nil
	}
	if t, err := clientsync.ParseTopoToken(tok); err == nil {
		return t.Stream, nil
	}
	if t, err := clientsync.ParseToken(tok); err == nil {
		return t[clientsync.StreamEvents] + 1, nil
	}
	return 0, spec.InvalidParam("invalid pagination token")
}

// applyTokens turns from/to gaps into exclusive stream bounds.
func applyTokens(q *store.RelationQuery, from, to string) error {
	for i, tok := range []string{from, to} {
		if tok == "" {
			continue
		}
		p, err := parseGap(tok)
		if err != nil {
			return err
		}
		isFrom := i == 0
		if q.Backwards == isFrom { // backwards from, or forwards to: events before the gap
			q.Before = &p
		} else {
			after := p - 1
			q.After = &after
		}
	}
	return nil
}
