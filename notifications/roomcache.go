package notifications

import (
	"context"
	"errors"
	"fmt"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/store"
)

// maxCachedRooms bounds the worker's room cache; past it an arbitrary room
// is dropped and reloaded on its next event.
const maxCachedRooms = 256

// roomCache keeps each room's roomInfo across batches, so an event costs
// the member list only once: the first event of a room loads it, and each
// later state event updates just what it changed (a join into a room of N
// members used to reload all N, making N joins cost N²). Only the worker
// goroutine uses it.
type roomCache map[string]*roomInfo

// room returns the room's info, loading it on first use and applying the
// state event row when it is one.
func (s *Service) room(ctx context.Context, cache roomCache, row models.Event) (*roomInfo, error) {
	info := cache[row.RoomID]
	if info == nil {
		if len(cache) >= maxCachedRooms {
			for k := range cache {
				delete(cache, k)
				break
			}
		}
		info, err := s.loadRoom(ctx, row.RoomID)
		if err != nil {
			return nil, err
		}
		cache[row.RoomID] = info // reflects current state: row included
		return info, nil
	}
	if row.StateKey == nil {
		return info, nil
	}
	var err error
	switch {
	case row.Type == "m.room.member":
		err = s.refreshMember(ctx, info, row.RoomID, *row.StateKey)
	case row.Type == "m.room.power_levels" && *row.StateKey == "":
		err = s.refreshPower(ctx, info, row.RoomID)
	}
	if err != nil {
		delete(cache, row.RoomID)
		return nil, err
	}
	return info, nil
}

// refreshMember re-reads one member's current membership, as a full reload
// would see it (current state, not the event: state resolution may not
// have kept the event).
func (s *Service) refreshMember(ctx context.Context, info *roomInfo, roomID, userID string) error {
	delete(info.names, userID) // looked up alone until the next full load
	if info.current != nil {   // read for the whole batch (prefetchMembers)
		if pos, ok := info.current[userID]; ok {
			info.joined[userID] = pos
		} else {
			delete(info.joined, userID)
		}
		return nil
	}
	cs, err := s.st.CurrentStateRow(ctx, roomID, "m.room.member", userID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && cs.Membership != "join") {
		delete(info.joined, userID)
		return nil
	}
	if err != nil {
		return err
	}
	ev, err := s.st.EventByID(ctx, cs.EventID)
	if err != nil {
		return fmt.Errorf("load membership of %s in %s: %w", userID, roomID, err)
	}
	info.joined[userID] = ev.StreamPos
	return nil
}

// prefetchMembers is how many membership events of one room a batch needs
// for the worker to read the room's joined members once for the batch
// rather than each member's state alone (two queries a join: 5,000 joins
// cost 10,000 queries).
const prefetchMembers = 16

// prefetch reads, for each room with at least prefetchMembers membership
// events in rows, the current joined members into roomInfo.current, which
// refreshMember then reads instead of the database: the same current
// state it would read, a few milliseconds earlier. The returned func
// drops them at the end of the batch.
func (s *Service) prefetch(ctx context.Context, cache roomCache, rows []models.Event) (func(), error) {
	count := map[string]int{}
	for _, r := range rows {
		if r.Type == "m.room.member" && r.StateKey != nil {
			count[r.RoomID]++
		}
	}
	var infos []*roomInfo
	done := func() {
		for _, info := range infos {
			info.current = nil
		}
	}
	for roomID, n := range count {
		if n < prefetchMembers {
			continue
		}
		info := cache[roomID]
		if info == nil {
			var err error
			if info, err = s.room(ctx, cache, models.Event{RoomID: roomID}); err != nil {
				done()
				return nil, err
			}
		}
		current, err := s.st.JoinedMembersSince(ctx, roomID)
		if err != nil {
			done()
			return nil, err
		}
		info.current = current
		infos = append(infos, info)
	}
	return done, nil
}
