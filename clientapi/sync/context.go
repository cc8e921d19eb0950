package sync

import (
	"context"
	"errors"

	"github.com/kabarchat/kabar/clientapi/clientevent"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// ContextRequest is GET /rooms/{roomId}/context/{eventId}, parsed.
type ContextRequest struct {
	UserID, DeviceID string
	RoomID, EventID  string
	Limit            int
	Filter           *RoomEventFilter
}

// ContextResponse is the /context body (event_context.yaml).
type ContextResponse struct {
	Start        string              `json:"start"`
	End          string              `json:"end"`
	Event        clientevent.Event   `json:"event"`
	EventsBefore []clientevent.Event `json:"events_before"`
	EventsAfter  []clientevent.Event `json:"events_after"`
	State        []clientevent.Event `json:"state"`
}

// Context returns an event with the events around it and the room state at
// it. An event the user may not see answers 404, like an unknown one, so
// its existence does not leak.
func (s *Syncer) Context(ctx context.Context, req ContextRequest) (*ContextResponse, error) {
	row, err := s.st.EventByID(ctx, req.EventID)
	// Rejected events and those stored without the room's state (outliers,
	// out-of-band memberships) are never served (server-server-api
	// "Rejection"); they answer like unknown ones.
	if errors.Is(err, store.ErrNotFound) || (err == nil && (row.RoomID != req.RoomID || row.StreamPos == 0 || row.Rejected || row.StateAfter == 0)) {
		return nil, spec.NotFound("event not found")
	}
	if err != nil {
		return nil, err
	}
	if ok, err := s.opts.Rooms.CanSee(ctx, req.UserID, row); err != nil || !ok {
		if err != nil {
			return nil, err
		}
		return nil, spec.NotFound("event not found")
	}
	limit := min(max(req.Limit, 0), 100)
	page := func(backwards bool, n int) (*MessagesResponse, error) {
		// The gaps before and after the event.
		at := TopoToken{Depth: row.Depth, Stream: row.StreamPos}
		if !backwards {
			at.Stream++
		}
		if n == 0 {
			return &MessagesResponse{Start: at.String(), last: at}, nil
		}
		return s.Messages(ctx, MessagesRequest{UserID: req.UserID, DeviceID: req.DeviceID, RoomID: req.RoomID,
			From: at.String(), Backwards: backwards, Limit: n, Filter: req.Filter})
	}
	before, err := page(true, limit/2)
	if err != nil {
		return nil, err
	}
	after, err := page(false, limit-limit/2)
	if err != nil {
		return nil, err
	}
	v := clientevent.Viewer{UserID: req.UserID, DeviceID: req.DeviceID}
	evs, err := s.opts.Format.Rows(ctx, v, []models.Event{row})
	if err != nil {
		return nil, err
	}
	resp := &ContextResponse{Event: evs[0], EventsBefore: nonNil(before.Chunk), EventsAfter: nonNil(after.Chunk),
		Start: lastToken(before), End: lastToken(after)}
	if resp.State, err = s.contextState(ctx, v, row, req.Filter); err != nil {
		return nil, err
	}
	return resp, nil
}

func lastToken(r *MessagesResponse) string {
	if r.End != "" {
		return r.End
	}
	// No more events that way: the position of the last one read still
	// resumes correctly (it returns nothing until more arrive).
	return r.last.String()
}

func nonNil(evs []clientevent.Event) []clientevent.Event {
	if evs == nil {
		return []clientevent.Event{}
	}
	return evs
}

// contextState is the state at the event; with lazy loading only the
// members who sent the returned events.
func (s *Syncer) contextState(ctx context.Context, v clientevent.Viewer, row models.Event, f *RoomEventFilter) ([]clientevent.Event, error) {
	entries, err := s.state.Full(ctx, s.st, row.StateAfter)
	if err != nil {
		return nil, err
	}
	nids := make([]int64, 0, len(entries))
	for _, e := range entries {
		if f != nil && f.LazyLoadMembers && e.Type == "m.room.member" && e.StateKey.StateKey != row.Sender && e.StateKey.StateKey != v.UserID {
			continue
		}
		nids = append(nids, e.EventNID)
	}
	rows, err := s.st.EventsByNID(ctx, nids)
	if err != nil {
		return nil, err
	}
	return s.opts.Format.Rows(ctx, v, rows)
}
