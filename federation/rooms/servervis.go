package rooms

import (
	"context"
	"errors"
	"strings"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// ServerView answers whether one server may see the events of one room:
// a server may see an event if any of its users could, by the rules of
// client-server-api "Room History Visibility" / "Server behaviour" applied
// with the state at the event (the federation read endpoints, server-server-api
// "Retrieving events" and "Backfilling and retrieving missing events").
// Build one per request: it memoises what it learns per state snapshot, so
// a /backfill of 100 events costs one lookup per distinct snapshot.
type ServerView struct {
	s      *Service
	server string
	// members are the server's users ever joined or invited, most recently
	// active first; lastJoin is the latest join of any of them ("shared":
	// a user who joined after the event may see it).
	members  []store.ServerMember
	lastJoin int64
	joined   bool // lastJoin is set
	snaps    map[int64]*serverSnap
	current  int64 // the room's current state snapshot
	// membership caches membership event NID -> membership.
	membership map[int64]string
}

// serverSnap is what one snapshot says for the server: the history
// visibility, and (computed on demand) whether a member of the server has a
// membership there that the visibility lets see.
type serverSnap struct {
	visibility string
	members    *bool
}

// memberChunk is how many of the server's users are looked up per query
// while looking for one whose membership allows.
const memberChunk = 64

// ServerView loads the server's membership history in the room (one query);
// 404 M_NOT_FOUND if the room is unknown.
func (s *Service) ServerView(ctx context.Context, roomID spec.RoomID, server spec.ServerName) (*ServerView, error) {
	room, _, err := s.Room(ctx, roomID)
	if err != nil {
		return nil, err
	}
	members, err := s.st.ServerMembers(ctx, string(roomID), string(server))
	if err != nil {
		return nil, err
	}
	v := &ServerView{s: s, server: string(server), members: members, current: room.SnapshotNID,
		snaps: map[int64]*serverSnap{}, membership: map[int64]string{}}
	for _, m := range members {
		if m.LastJoin != nil && (!v.joined || *m.LastJoin > v.lastJoin) {
			v.lastJoin, v.joined = *m.LastJoin, true
		}
	}
	return v, nil
}

// Stranger reports whether the server never had a user joined to or
// invited into the room and the room is not world-readable now. The
// walking endpoints (/backfill, /get_missing_events) refuse such a server
// outright, as Synapse does for a host not in the room, instead of serving
// redacted copies that would still show who is in the room.
func (v *ServerView) Stranger(ctx context.Context) (bool, error) {
	if len(v.members) > 0 {
		return false, nil
	}
	st, err := v.at(ctx, v.current)
	if err != nil {
		return false, err
	}
	return st.visibility != visWorldReadable, nil
}

// CanSee reports whether the server may see the stored event. As for users,
// a history_visibility event, and a membership event of one of the
// server's users, are visible if the state before OR after them allows it
// (client-server-api "Server behaviour"). Only the state_after of those
// differs from state_before in the server's users' memberships or the
// visibility, so checking the whole server at state_after is exact.
func (v *ServerView) CanSee(ctx context.Context, row models.Event) (bool, error) {
	ok, err := v.allows(ctx, row.StateBefore, row.StreamPos)
	if ok || err != nil {
		return ok, err
	}
	hv := row.Type == "m.room.history_visibility" && row.StateKey != nil && *row.StateKey == ""
	own := row.Type == "m.room.member" && row.StateKey != nil && strings.HasSuffix(*row.StateKey, ":"+v.server)
	if !hv && !own {
		return false, nil
	}
	return v.allows(ctx, row.StateAfter, row.StreamPos)
}

// allows applies the four rules of "Server behaviour" for the server's
// users at one snapshot, cheapest first.
func (v *ServerView) allows(ctx context.Context, snap, pos int64) (bool, error) {
	st, err := v.at(ctx, snap)
	if err != nil {
		return false, err
	}
	switch {
	case st.visibility == visWorldReadable:
		return true, nil
	case st.visibility == visShared && v.joined && v.lastJoin > pos:
		return true, nil // a user joined after the event was sent
	}
	if st.members == nil {
		ok, err := v.memberAllows(ctx, snap, st.visibility == visInvited)
		if err != nil {
			return false, err
		}
		st.members = &ok
	}
	return *st.members, nil
}

func (v *ServerView) at(ctx context.Context, snap int64) (*serverSnap, error) {
	if st, ok := v.snaps[snap]; ok {
		return st, nil
	}
	st := &serverSnap{visibility: visShared}
	nid, err := v.s.state.Lookup(ctx, v.s.st, snap, store.StateKey{Type: "m.room.history_visibility"})
	switch {
	case err == nil:
		if st.visibility, err = v.s.historyVisibility(ctx, nid); err != nil {
			return nil, err
		}
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	v.snaps[snap] = st
	return st, nil
}

// memberAllows reports whether one of the server's users is joined at the
// snapshot (or invited, when invites count), looking the users up a chunk
// at a time, most recently active first, so a server with a live member
// is usually settled by the first chunk.
func (v *ServerView) memberAllows(ctx context.Context, snap int64, invites bool) (bool, error) {
	var cands []string
	for _, m := range v.members {
		if invites || m.LastJoin != nil {
			cands = append(cands, m.UserID)
		}
	}
	for len(cands) > 0 {
		chunk := cands[:min(len(cands), memberChunk)]
		cands = cands[len(chunk):]
		nids, err := v.memberNIDs(ctx, snap, chunk)
		if err != nil {
			return false, err
		}
		for _, nid := range nids {
			switch v.membership[nid] {
			case "join":
				return true, nil
			case "invite":
				if invites {
					return true, nil
				}
			}
		}
	}
	return false, nil
}

// memberNIDs returns the membership event NIDs of users at the snapshot,
// loading the memberships not yet cached in one query.
func (v *ServerView) memberNIDs(ctx context.Context, snap int64, users []string) ([]int64, error) {
	var nids, missing []int64
	for _, u := range users {
		nid, err := v.s.state.Lookup(ctx, v.s.st, snap, store.StateKey{Type: "m.room.member", StateKey: u})
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		nids = append(nids, nid)
		if _, ok := v.membership[nid]; !ok {
			missing = append(missing, nid)
		}
	}
	if len(missing) == 0 {
		return nids, nil
	}
	rows, err := v.s.st.EventsByNID(ctx, missing)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		v.membership[r.EventNID] = r.Membership
	}
	return nids, nil
}
