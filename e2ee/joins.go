package e2ee

import (
	"context"
	"errors"
	"slices"

	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// handleJoins acts on the joins in (from, to] of the event stream, in any
// room (server-server-api "Device Management": servers send device list
// updates to every server sharing a room with the user):
//   - a local user joining a room whose remote servers shared no other room
//     with them: those servers start receiving the user's device list, so
//     they get an m.device_list_update for each device with keys now;
//   - a remote user joining a room with our users whose device list we do
//     not track (or whose keys we have not cached): marked stale, resynced.
func (s *Service) handleJoins(ctx context.Context, from, to int64) error {
	joins, err := s.st.JoinEventsIn(ctx, from, to)
	if err != nil {
		return err
	}
	// The members of each room are read once for the whole range, not
	// once per join (N joins into a room used to cost N member lists).
	members := memberCache{}
	for _, j := range joins {
		if s.isLocal(j.UserID) {
			err = s.announceToNewServers(ctx, members, j.UserID, j.RoomID)
		} else {
			err = s.trackRemoteJoiner(ctx, members, j.UserID, j.RoomID)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// announceToNewServers sends a local user's device list to the remote
// servers of roomID that share no other room with the user. The updates
// chain through prev_id in stream order; the first has none (a receiver
// that knew an older stream_id sees a gap and resyncs).
func (s *Service) announceToNewServers(ctx context.Context, members memberCache, userID, roomID string) error {
	dests, err := s.newServersIn(ctx, members, userID, roomID)
	if err != nil || len(dests) == 0 {
		return err
	}
	positions, err := s.st.DevicePositions(ctx, userID)
	if err != nil {
		return err
	}
	keyed, err := s.st.DeviceKeysOf(ctx, userID, nil)
	if err != nil {
		return err
	}
	type dev struct {
		id  string
		pos int64
	}
	var devs []dev
	for _, k := range keyed {
		if p, ok := positions[k.DeviceID]; ok {
			devs = append(devs, dev{k.DeviceID, p})
		}
	}
	slices.SortFunc(devs, func(a, b dev) int { return int(a.pos - b.pos) })
	prev := []int64{}
	for _, d := range devs {
		edu := s.deviceUpdate(ctx, userID, d.id, d.pos, prev, false)
		s.sendEDU(ctx, "m.device_list_update", edu, dests)
		prev = []int64{d.pos}
	}
	return nil
}

// newServersIn lists the remote servers joined to roomID that share no
// other room with userID.
func (s *Service) newServersIn(ctx context.Context, members memberCache, userID, roomID string) ([]spec.ServerName, error) {
	room, err := members.load(ctx, s, roomID)
	if err != nil {
		return nil, err
	}
	others, err := s.st.UsersSharingOtherRooms(ctx, userID, roomID)
	if err != nil {
		return nil, err
	}
	known := map[spec.ServerName]bool{s.opts.ServerName: true}
	for _, u := range others {
		known[serverOf(u)] = true
	}
	var out []spec.ServerName
	for _, srv := range room.servers {
		if !known[srv] {
			known[srv] = true
			out = append(out, srv)
		}
	}
	return out, nil
}

// trackRemoteJoiner marks a remote joiner's device list for resync when
// one of our users is in the room and we neither track the list nor hold
// cached keys for it.
func (s *Service) trackRemoteJoiner(ctx context.Context, members memberCache, userID, roomID string) error {
	if serverOf(userID) == "" {
		return nil
	}
	l, err := s.st.RemoteDeviceList(ctx, userID)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return err
	case l.Stale:
		return nil // already queued
	default:
		cached, err := s.st.RemoteKeyCaches(ctx, []string{userID})
		if err != nil || len(cached) > 0 {
			return err
		}
	}
	room, err := members.load(ctx, s, roomID)
	if err != nil || !room.hasLocal {
		return err
	}
	return s.markStale(ctx, userID)
}
