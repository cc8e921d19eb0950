package sync

import (
	"context"
	"slices"

	"github.com/kabarchat/kabar/clientapi/clientevent"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// MessagesRequest is GET /rooms/{roomId}/messages, parsed.
type MessagesRequest struct {
	UserID, DeviceID string
	RoomID           string
	// From and To are pagination tokens as the client sent them ("" if
	// absent): /messages tokens, a /sync prev_batch or a next_batch.
	From, To  string
	Backwards bool
	Limit     int
	Filter    *RoomEventFilter
}

// MessagesResponse is the /messages body (message_pagination.yaml).
type MessagesResponse struct {
	Start string              `json:"start"`
	End   string              `json:"end,omitempty"`
	Chunk []clientevent.Event `json:"chunk"`
	State []clientevent.Event `json:"state,omitempty"`
	// last is the position of the last event read (the start if none).
	last TopoToken
}

// maxPageRounds bounds how many extra reads a filtered page may take to
// fill up before it returns what it has (with an end token to go on).
const maxPageRounds = 8

// Messages pages through a room in topological order. A token is a gap
// between events (the position of the event after it): backwards returns
// the events before the gap, forwards those after it, so consecutive pages
// in either direction, and turning around, have no gaps or overlaps.
func (s *Syncer) Messages(ctx context.Context, req MessagesRequest) (*MessagesResponse, error) {
	from, err := s.pageStart(ctx, req)
	if err != nil {
		return nil, err
	}
	var to *TopoToken
	if req.To != "" {
		t, err := s.pageToken(ctx, req.RoomID, req.To)
		if err != nil {
			return nil, err
		}
		to = &t
	}
	limit := min(max(req.Limit, 1), 1000)
	resp := &MessagesResponse{Start: from.String(), Chunk: []clientevent.Event{}}
	var rows []models.Event
	pos, more, backfilled := from, true, false
	for round := 0; more && len(rows) < limit && round < maxPageRounds; round++ {
		at := store.TopoPosition{Depth: pos.Depth, Stream: pos.Stream}
		if !req.Backwards {
			at.Stream-- // RoomTopo is strict both ways; forwards starts at the gap
		}
		page, err := s.st.RoomTopo(ctx, req.RoomID, at, req.Backwards, limit-len(rows))
		if err != nil {
			return nil, err
		}
		more = len(page) == limit-len(rows)
		if to != nil {
			n := len(page)
			page = slices.DeleteFunc(page, func(r models.Event) bool { return beyond(r, *to, req.Backwards) })
			more = more && len(page) == n
		}
		if !more && req.Backwards && to == nil && !backfilled && s.opts.Backfill != nil {
			// The start of the history we have: ask the room's servers
			// for what came before (server-server-api "Backfilling and
			// retrieving missing events"), then read on.
			backfilled = true
			more = s.opts.Backfill.Backfill(ctx, spec.RoomID(req.RoomID), spec.UserID(req.UserID))
			if len(page) == 0 && more {
				continue
			}
		}
		if len(page) == 0 {
			break
		}
		last := page[len(page)-1]
		pos = TopoToken{Depth: last.Depth, Stream: last.StreamPos}
		if !req.Backwards {
			pos.Stream++ // the gap after the last event
		}
		if page, err = s.opts.Rooms.FilterVisible(ctx, req.UserID, page); err != nil {
			return nil, err
		}
		rows = append(rows, slices.DeleteFunc(page, func(r models.Event) bool {
			return !req.Filter.AllowsEvent(req.RoomID, r.Type, r.Sender, req.Filter != nil && req.Filter.ContainsURL != nil && hasURL(r))
		})...)
	}
	resp.last = pos
	if more {
		resp.End = pos.String()
	}
	v := clientevent.Viewer{UserID: req.UserID, DeviceID: req.DeviceID}
	if resp.Chunk, err = s.opts.Format.Rows(ctx, v, rows); err != nil {
		return nil, err
	}
	if req.Filter != nil && req.Filter.LazyLoadMembers {
		if resp.State, err = s.lazyMembers(ctx, v, rows); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

// beyond reports whether r lies past the to gap in the paging direction.
func beyond(r models.Event, to TopoToken, backwards bool) bool {
	before := r.Depth < to.Depth || (r.Depth == to.Depth && r.StreamPos < to.Stream)
	return before == backwards
}

// pageStart resolves from; without it paging starts at the newest event
// (backwards) or the oldest (forwards).
func (s *Syncer) pageStart(ctx context.Context, req MessagesRequest) (TopoToken, error) {
	if req.From != "" {
		return s.pageToken(ctx, req.RoomID, req.From)
	}
	if !req.Backwards {
		return TopoToken{}, nil
	}
	return s.pageToken(ctx, req.RoomID, s.opts.Streams.Current().String())
}

// pageToken reads a /messages token or a /sync token. A sync token names
// a stream position P: it maps to the gap after the room's last event at
// or before P.
func (s *Syncer) pageToken(ctx context.Context, roomID, tok string) (TopoToken, error) {
	if t, err := ParseTopoToken(tok); err == nil {
		return t, nil
	}
	st, err := ParseToken(tok)
	if err != nil {
		return TopoToken{}, spec.InvalidParam("invalid pagination token")
	}
	if st[StreamEvents] > s.opts.Streams.Events.Current() {
		return TopoToken{}, spec.InvalidParam("pagination token is ahead of the server")
	}
	last, err := s.st.RoomTimelineTail(ctx, roomID, 0, st[StreamEvents], 1)
	if err != nil {
		return TopoToken{}, err
	}
	if len(last) == 0 {
		return TopoToken{}, nil // nothing before it: backwards is empty, forwards starts at the beginning
	}
	return TopoToken{Depth: last[0].Depth, Stream: last[0].StreamPos + 1}, nil
}

// lazyMembers returns the membership events of the chunk's senders at the
// end of the chunk (client-server-api "Lazy-loading room members").
func (s *Syncer) lazyMembers(ctx context.Context, v clientevent.Viewer, rows []models.Event) ([]clientevent.Event, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	snap := rows[len(rows)-1].StateAfter
	seen := map[string]bool{}
	var nids []int64
	for _, r := range rows {
		if seen[r.Sender] {
			continue
		}
		seen[r.Sender] = true
		nid, err := s.state.Lookup(ctx, s.st, snap, store.StateKey{Type: "m.room.member", StateKey: r.Sender})
		if err == nil {
			nids = append(nids, nid)
		}
	}
	members, err := s.st.EventsByNID(ctx, nids)
	if err != nil {
		return nil, err
	}
	return s.opts.Format.Rows(ctx, v, members)
}
