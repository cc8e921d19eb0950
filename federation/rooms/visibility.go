package rooms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/store"
)

// History visibility values (client-server-api modules/history_visibility).
const (
	visWorldReadable = "world_readable"
	visShared        = "shared"
	visInvited       = "invited"
	visJoined        = "joined"
)

// CanSee reports whether userID may see the stored event, by the rules of
// client-server-api "Room History Visibility" / "Server behaviour", applied
// with the room state at the event. /rooms/{roomId}/event, /context,
// /messages and /sync all use it (or FilterVisible).
func (s *Service) CanSee(ctx context.Context, userID string, row models.Event) (bool, error) {
	before, err := s.viewAt(ctx, row.StateBefore, userID)
	if err != nil {
		return false, err
	}
	if before.allows(ctx, s, userID, row) {
		return true, before.err
	}
	// A history_visibility event, and the user's own membership event, are
	// visible if the state before OR after them allows it.
	own := row.Type == "m.room.member" && row.StateKey != nil && *row.StateKey == userID
	hv := row.Type == "m.room.history_visibility" && row.StateKey != nil && *row.StateKey == ""
	if !own && !hv {
		return false, before.err
	}
	after, err := s.viewAt(ctx, row.StateAfter, userID)
	if err != nil {
		return false, err
	}
	return after.allows(ctx, s, userID, row), after.err
}

// FilterVisible keeps the events userID may see, in order.
func (s *Service) FilterVisible(ctx context.Context, userID string, rows []models.Event) ([]models.Event, error) {
	out := rows[:0:0]
	for _, r := range rows {
		ok, err := s.CanSee(ctx, userID, r)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// visView is the history visibility and the user's membership in one state
// snapshot.
type visView struct {
	visibility string
	membership string
	err        error
}

func (v *visView) allows(ctx context.Context, s *Service, userID string, row models.Event) bool {
	switch {
	case v.visibility == visWorldReadable, v.membership == "join":
		return true
	case v.visibility == visInvited && v.membership == "invite":
		return true
	case v.visibility == visShared:
		joined, err := s.st.JoinedSince(ctx, row.RoomID, userID, row.StreamPos)
		if err != nil {
			v.err = err
		}
		return joined
	}
	return false
}

func (s *Service) viewAt(ctx context.Context, snap int64, userID string) (*visView, error) {
	v := &visView{visibility: visShared}
	nid, err := s.state.Lookup(ctx, s.st, snap, store.StateKey{Type: "m.room.history_visibility"})
	switch {
	case err == nil:
		if v.visibility, err = s.historyVisibility(ctx, nid); err != nil {
			return nil, err
		}
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	nid, err = s.state.Lookup(ctx, s.st, snap, store.StateKey{Type: "m.room.member", StateKey: userID})
	switch {
	case err == nil:
		rows, err := s.st.EventsByNID(ctx, []int64{nid})
		if err != nil {
			return nil, err
		}
		if len(rows) == 1 {
			v.membership = rows[0].Membership
		}
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	return v, nil
}

// historyVisibility reads an m.room.history_visibility event's value; an
// unknown value counts as "shared" (spec: "if the value is not understood").
func (s *Service) historyVisibility(ctx context.Context, nid int64) (string, error) {
	if v, ok := s.visCache.Load(nid); ok {
		return v.(string), nil
	}
	rows, err := s.st.EventsByNID(ctx, []int64{nid})
	if err != nil || len(rows) == 0 {
		return visShared, fmt.Errorf("history visibility event %d: %w", nid, errors.Join(err, store.ErrNotFound))
	}
	var ev struct {
		Content struct {
			HistoryVisibility string `json:"history_visibility"`
		} `json:"content"`
	}
	json.Unmarshal([]byte(rows[0].JSON), &ev) // stored events are valid JSON
	v := ev.Content.HistoryVisibility
	switch v {
	case visWorldReadable, visShared, visInvited, visJoined:
	default:
		v = visShared
	}
	s.visCache.Store(nid, v)
	return v, nil
}
