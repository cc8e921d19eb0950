package search

import (
	"context"
	"encoding/json"

	"github.com/kabarchat/kabar/clientapi/clientevent"
	clientsync "github.com/kabarchat/kabar/clientapi/sync"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/store"
)

// results formats the visible hits with their context, the rooms' state
// and the groups the request asked for.
func (s *Service) results(ctx context.Context, v clientevent.Viewer, hits []store.SearchHit, f *clientsync.RoomEventFilter, c *RoomEventsCriteria, out *RoomEventsResult) error {
	rows, ranks, err := s.loadHits(ctx, v.UserID, hits, f)
	if err != nil {
		return err
	}
	evs, err := s.Format.Rows(ctx, v, rows)
	if err != nil {
		return err
	}
	for i, ev := range evs {
		r := Result{Rank: ranks[i], Result: ev}
		if c.EventContext != nil {
			if r.Context, err = s.context(ctx, v, rows[i], c.EventContext); err != nil {
				return err
			}
		}
		out.Results = append(out.Results, r)
	}
	if c.IncludeState {
		if out.State, err = s.roomsState(ctx, v, rows); err != nil {
			return err
		}
	}
	out.Groups = group(groupings(c), rows)
	return nil
}

// context pages around the result with the /messages machinery, so
// history visibility applies to the neighbours too.
func (s *Service) context(ctx context.Context, v clientevent.Viewer, row models.Event, spec *EventContextSpec) (*Context, error) {
	before, after := ctxLimit(spec.BeforeLimit), ctxLimit(spec.AfterLimit)
	out := &Context{EventsBefore: []clientevent.Event{}, EventsAfter: []clientevent.Event{}}
	page := func(backwards bool, n int) ([]clientevent.Event, string, error) {
		at := clientsync.TopoToken{Depth: row.Depth, Stream: row.StreamPos}
		if !backwards {
			at.Stream++ // the gap after the result
		}
		if n == 0 {
			return []clientevent.Event{}, at.String(), nil
		}
		resp, err := s.Sync.Messages(ctx, clientsync.MessagesRequest{UserID: v.UserID, DeviceID: v.DeviceID,
			RoomID: row.RoomID, From: at.String(), Backwards: backwards, Limit: n})
		if err != nil {
			return nil, "", err
		}
		tok := resp.End
		if tok == "" {
			tok = resp.Start
		}
		return resp.Chunk, tok, nil
	}
	var err error
	if out.EventsBefore, out.Start, err = page(true, before); err != nil {
		return nil, err
	}
	if out.EventsAfter, out.End, err = page(false, after); err != nil {
		return nil, err
	}
	if spec.IncludeProfile {
		out.ProfileInfo = s.profiles(ctx, row.RoomID, append(append([]clientevent.Event{{Sender: row.Sender}}, out.EventsBefore...), out.EventsAfter...))
	}
	return out, nil
}

func ctxLimit(n *int) int {
	if n == nil {
		return defaultCtx
	}
	return min(max(*n, 0), maxCtx)
}

// profiles reads the senders' display names and avatars from their
// current membership events in the room. NOTSPEC: the spec asks for the
// historic profile; the current one is what clients show next to the
// results anyway, and costs one state read per sender.
func (s *Service) profiles(ctx context.Context, roomID string, evs []clientevent.Event) map[string]Profile {
	out := map[string]Profile{}
	st := s.Rooms.Store()
	for _, ev := range evs {
		if _, done := out[ev.Sender]; done || ev.Sender == "" {
			continue
		}
		out[ev.Sender] = Profile{}
		cs, err := st.CurrentStateRow(ctx, roomID, "m.room.member", ev.Sender)
		if err != nil {
			continue // no membership: an empty profile
		}
		row, err := st.EventByID(ctx, cs.EventID)
		if err != nil {
			continue
		}
		var m struct {
			Content Profile `json:"content"`
		}
		if json.Unmarshal([]byte(row.JSON), &m) == nil {
			out[ev.Sender] = m.Content
		}
	}
	return out
}

// roomsState is the current state of every room with a result.
func (s *Service) roomsState(ctx context.Context, v clientevent.Viewer, rows []models.Event) (map[string][]clientevent.Event, error) {
	out := map[string][]clientevent.Event{}
	st := s.Rooms.Store()
	for _, r := range rows {
		if _, done := out[r.RoomID]; done {
			continue
		}
		cur, err := st.CurrentStateRows(ctx, r.RoomID, "")
		if err != nil {
			return nil, err
		}
		nids := make([]int64, len(cur))
		for i, cs := range cur {
			nids[i] = cs.EventNID
		}
		evRows, err := st.EventsByNID(ctx, nids)
		if err != nil {
			return nil, err
		}
		if out[r.RoomID], err = s.Format.Rows(ctx, v, evRows); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// group partitions the results by room or sender, groups ordered by
// their best result.
func group(by []GroupBy, rows []models.Event) map[string]map[string]*Group {
	if len(by) == 0 {
		return nil
	}
	out := map[string]map[string]*Group{}
	for _, g := range by {
		groups := map[string]*Group{}
		for _, r := range rows {
			val := r.RoomID
			if g.Key == "sender" {
				val = r.Sender
			}
			if groups[val] == nil {
				groups[val] = &Group{Order: len(groups) + 1, Results: []string{}}
			}
			groups[val].Results = append(groups[val].Results, r.EventID)
		}
		out[g.Key] = groups
	}
	return out
}
