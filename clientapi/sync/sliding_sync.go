package sync

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/kabarchat/kabar/models/store"
)

// SlidingSync answers a sliding sync request (MSC4186). With a pos it
// long-polls like /sync: it answers at once when something the connection
// sees changed, otherwise it parks on the notifier until the timeout.
func (s *Syncer) SlidingSync(ctx context.Context, req SlidingRequest) (*SlidingResponse, error) {
	key := connKey{req.UserID, req.DeviceID, req.Body.ConnID}
	var conn *connection
	var n int64
	if req.Pos == "" {
		conn = s.conns.start(key)
	} else {
		var ok bool
		if conn, n, ok = s.conns.resume(key, req.Pos); !ok {
			return nil, unknownPos()
		}
	}
	conn.mu.Lock()
	defer conn.mu.Unlock()
	old, ok := conn.state(n)
	if !ok {
		return nil, unknownPos()
	}
	sub := s.opts.Notifier.Subscribe(req.UserID)
	defer sub.Close()
	timeout := min(max(req.Timeout, 0), s.opts.MaxTimeout)
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	now := s.opts.Streams.Current()
	for {
		sb := &slidingBuild{s: s, req: req, old: old, now: now, initial: req.Pos == ""}
		resp, st, err := sb.build(ctx)
		if err != nil {
			return nil, err
		}
		if sb.changed || sb.initial || timeout == 0 || !s.wait(ctx, sub, timer) || !s.catchUp(ctx, sub, timeout) {
			resp.Pos = conn.commit(st)
			return resp, nil
		}
		now = s.opts.Streams.Current()
	}
}

// catchUp follows a wake-up like rearm: it waits until the event stream
// is readable up to what the user was notified of.
func (s *Syncer) catchUp(ctx context.Context, sub *Subscription, timeout time.Duration) bool {
	pos := sub.Rearm()
	waitCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return WaitFor(waitCtx, s.opts.Streams.Events, pos) == nil
}

// slidingBuild assembles one response from the connection's state.
type slidingBuild struct {
	s       *Syncer
	req     SlidingRequest
	old     *connState
	st      *connState
	now     Token
	initial bool
	// changed is set when the response carries anything new.
	changed bool
	// touched are the rooms with events (or membership changes) since
	// the old position.
	touched map[string]bool
	// window are the rooms in some list's ranges or subscribed, with the
	// merged configuration they are sent with.
	window map[string]*RoomConfig
	// listRooms are the windowed rooms of each list.
	listRooms map[string][]string
	// tagsLoaded says st.tags is up to date; children caches the spaces'
	// children for this response.
	tagsLoaded bool
	children   map[string]map[string]bool
	resp       *SlidingResponse
}

func (sb *slidingBuild) build(ctx context.Context) (*SlidingResponse, *connState, error) {
	sb.st = sb.old.clone()
	sb.st.token = sb.now
	sb.resp = &SlidingResponse{Lists: map[string]SlidingListResult{}}
	if err := sb.updateRooms(ctx); err != nil {
		return nil, nil, err
	}
	if err := sb.loadDM(ctx); err != nil {
		return nil, nil, err
	}
	if err := sb.lists(ctx); err != nil {
		return nil, nil, err
	}
	sb.subscriptions()
	if err := sb.rooms(ctx); err != nil {
		return nil, nil, err
	}
	if err := sb.extensions(ctx); err != nil {
		return nil, nil, err
	}
	return sb.resp, sb.st, nil
}

// updateRooms brings the user's rooms up to now: every membership on a
// new connection, on a resumed one only the rooms with events since.
func (sb *slidingBuild) updateRooms(ctx context.Context) error {
	st, user := sb.s.st, sb.req.UserID
	sb.touched = map[string]bool{}
	var rows []store.RoomMembership
	var err error
	from := sb.old.token[StreamEvents]
	if sb.old.rooms == nil {
		sb.st.rooms = map[string]*roomInfo{}
		from = 0
		rows, err = st.UserMemberships(ctx, user)
	} else if from < sb.now[StreamEvents] {
		// The rooms with events in the range are shared with the /sync
		// requests for the same range (shared.go).
		var shared bool
		rows, shared, err = sb.builder(0).changedRoomsShared(ctx)
		if err == nil && !shared {
			rows, err = st.ChangedRooms(ctx, user, from, sb.now[StreamEvents])
		}
	}
	if err != nil {
		return err
	}
	for _, m := range rows {
		info := sb.st.rooms[m.RoomID]
		if info == nil {
			info = &roomInfo{}
			sb.st.rooms[m.RoomID] = info
		}
		bump, err := sb.bump(ctx, m, from)
		if err != nil {
			return err
		}
		if bump > info.bump || m.Membership != info.membership {
			sb.touched[m.RoomID] = true
		}
		info.membership, info.bump = m.Membership, max(info.bump, bump)
		if !info.encrypted {
			info.encKnown = false // it may have been turned on since
		}
		if !info.tombstoned {
			info.tombKnown = false
		}
	}
	return nil
}

// bump is the room's latest position the user may see after from: its
// newest event when joined, else its own membership event.
func (sb *slidingBuild) bump(ctx context.Context, m store.RoomMembership, from int64) (int64, error) {
	st := sb.s.st
	if m.Membership == "join" {
		rows, err := st.RoomTimelineTail(ctx, m.RoomID, from, sb.now[StreamEvents], 1)
		if err != nil || len(rows) == 0 {
			return 0, err
		}
		return rows[0].StreamPos, nil
	}
	cs, err := st.CurrentStateRow(ctx, m.RoomID, "m.room.member", sb.req.UserID)
	if err != nil {
		return 0, err
	}
	ev, err := st.EventByID(ctx, cs.EventID)
	return ev.StreamPos, err
}

// loadDM reads the user's m.direct when the account data moved (or on a
// new connection): the rooms is_dm marks.
func (sb *slidingBuild) loadDM(ctx context.Context) error {
	if sb.st.dm != nil && sb.old.token[StreamAccountData] == sb.now[StreamAccountData] {
		return nil
	}
	sb.st.dm = map[string]bool{}
	content, err := sb.s.st.GetAccountData(ctx, sb.req.UserID, "", "m.direct")
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var direct map[string][]string
	json.Unmarshal([]byte(content), &direct) // a malformed m.direct marks nothing
	for _, rooms := range direct {
		for _, r := range rooms {
			sb.st.dm[r] = true
		}
	}
	return nil
}

// lists sorts and filters the user's rooms for each list and takes the
// rooms in its ranges.
func (sb *slidingBuild) lists(ctx context.Context) error {
	sb.window = map[string]*RoomConfig{}
	sb.listRooms = map[string][]string{}
	sb.st.counts = map[string]int{}
	sorted := sb.sortedRooms()
	for _, name := range slices.Sorted(maps.Keys(sb.req.Body.Lists)) {
		l := sb.req.Body.Lists[name]
		var rooms []string
		for _, id := range sorted {
			ok, err := sb.matches(ctx, id, l.Filters)
			if err != nil {
				return err
			}
			if ok {
				rooms = append(rooms, id)
			}
		}
		count := len(rooms)
		sb.resp.Lists[name] = SlidingListResult{Count: count}
		sb.st.counts[name] = count
		if prev, ok := sb.old.counts[name]; !ok || prev != count {
			sb.changed = true
		}
		for _, r := range l.Ranges {
			// Ranges are inclusive and clamped to the list, so a huge end
			// costs nothing.
			for i := r[0]; i <= r[1] && i < int64(count); i++ {
				id := rooms[i]
				sb.listRooms[name] = append(sb.listRooms[name], id)
				sb.addWindow(id, l.RoomConfig)
			}
		}
	}
	return nil
}

// sortedRooms lists the rooms a list may show, newest first (MSC4186
// "Sorting": by bump_stamp). Rooms the user left are shown only when the
// leave is new to the connection, so it sees the leave.
func (sb *slidingBuild) sortedRooms() []string {
	ids := make([]string, 0, len(sb.st.rooms))
	for id, info := range sb.st.rooms {
		switch info.membership {
		case "join", "invite", "knock":
		case "leave", "ban":
			if _, had := sb.old.sent[id]; !had || !sb.touched[id] {
				continue
			}
		default:
			continue
		}
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := sb.st.rooms[ids[i]], sb.st.rooms[ids[j]]
		if a.bump != b.bump {
			return a.bump > b.bump
		}
		return ids[i] < ids[j]
	})
	return ids
}

// subscriptions adds the explicitly subscribed rooms the user has a
// membership in (others are left out, as Synapse does).
func (sb *slidingBuild) subscriptions() {
	for id, cfg := range sb.req.Body.RoomSubscriptions {
		if info := sb.st.rooms[id]; info != nil && info.membership != "" {
			sb.addWindow(id, cfg)
		}
	}
}

// addWindow merges a room's configuration: the highest timeline limit and
// every required state entry of the lists and subscriptions that have it.
func (sb *slidingBuild) addWindow(id string, cfg RoomConfig) {
	w := sb.window[id]
	if w == nil {
		sb.window[id] = &RoomConfig{TimelineLimit: cfg.TimelineLimit, RequiredState: slices.Clone(cfg.RequiredState)}
		return
	}
	w.TimelineLimit = max(w.TimelineLimit, cfg.TimelineLimit)
	for _, rs := range cfg.RequiredState {
		if !slices.ContainsFunc(w.RequiredState, func(x []string) bool { return slices.Equal(x, rs) }) {
			w.RequiredState = append(w.RequiredState, rs)
		}
	}
}
