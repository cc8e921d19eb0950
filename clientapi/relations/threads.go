package relations

import (
	"context"
	"strconv"
	"strings"

	"github.com/kabarchat/kabar/clientapi/clientevent"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// ThreadsRequest is GET /rooms/{roomId}/threads (threads_list.yaml).
type ThreadsRequest struct {
	UserID, DeviceID string
	RoomID           string
	// Participated selects include=participated.
	Participated bool
	From         string
	Limit        int
}

// ThreadsResponse is the threads_list.yaml response body.
type ThreadsResponse struct {
	Chunk     []clientevent.Event `json:"chunk"`
	NextBatch string              `json:"next_batch,omitempty"`
}

// Threads lists the room's thread roots the user may see, most recent
// activity first, each with its m.thread aggregation bundled.
func (s *Service) Threads(ctx context.Context, req ThreadsRequest) (*ThreadsResponse, error) {
	var before *int64
	if req.From != "" {
		// Backfilled threads have negative positions: any int64 is valid.
		rest, ok := strings.CutPrefix(req.From, "a")
		p, err := strconv.ParseInt(rest, 10, 64)
		if err != nil || !ok {
			return nil, spec.InvalidParam("invalid from token")
		}
		before = &p
	}
	limit := clampLimit(req.Limit)
	participant := ""
	if req.Participated {
		participant = req.UserID
	}
	roots, err := s.Rooms.Store().ThreadRoots(ctx, req.RoomID, participant, before, limit+1)
	if err != nil {
		return nil, err
	}
	resp := &ThreadsResponse{Chunk: []clientevent.Event{}}
	if len(roots) > limit {
		roots = roots[:limit]
		resp.NextBatch = "a" + strconv.FormatInt(roots[len(roots)-1].Latest, 10)
	}
	rows, err := s.rootRows(ctx, req, roots)
	if err != nil {
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

// rootRows loads the visible roots in the order of their latest activity;
// roots this server does not have are left out.
func (s *Service) rootRows(ctx context.Context, req ThreadsRequest, roots []store.ThreadRoot) ([]models.Event, error) {
	ids := make([]string, len(roots))
	for i, r := range roots {
		ids[i] = r.RootID
	}
	rows, err := s.Rooms.Store().EventsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	byID := map[string]models.Event{}
	for _, r := range rows {
		// Backfilled roots (negative positions) are timeline events too;
		// only outliers (0) are not.
		if r.RoomID == req.RoomID && r.StreamPos != 0 {
			byID[r.EventID] = r
		}
	}
	ordered := make([]models.Event, 0, len(byID))
	for _, id := range ids {
		if r, ok := byID[id]; ok {
			ordered = append(ordered, r)
		}
	}
	return s.Rooms.FilterVisible(ctx, req.UserID, ordered)
}
