package rooms

import (
	"context"
	"encoding/json"
	"errors"
	"sort"

	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// Why AuthoriseRestrictedJoin refused; callers map these to their own
// errors (the client API answers 403, make_join the spec's 400 codes).
var (
	// ErrNotAllowed: the user is joined to none of the allowed rooms.
	ErrNotAllowed = errors.New("not a member of a room this room allows, nor invited")
	// ErrCannotCheck: this server is in none of the allowed rooms.
	ErrCannotCheck = errors.New("this server cannot check any of the room's allow conditions")
	// ErrNoAuthoriser: no member of this server may invite.
	ErrNoAuthoriser = errors.New("no member of this server may invite")
)

// AuthoriseRestrictedJoin decides a join to a restricted or knock_restricted
// room (client-server-api "Restricted rooms"; server-server-api "Restricted
// rooms"; rooms v8+ auth rule 4.3.1): the user must be joined to a room of
// the allow list, and a member of this server who may invite is named in
// join_authorised_via_users_server. It returns "" when no authorising user
// is needed (another join rule, a version without restricted rooms, or the
// user is already invited or joined).
func (s *Service) AuthoriseRestrictedJoin(ctx context.Context, roomID spec.RoomID, user string) (string, error) {
	if _, rv, err := s.Room(ctx, roomID); err != nil || !rv.Restricted {
		return "", nil // unknown room or no restricted rooms: the auth rules decide
	}
	ev, err := s.StateEvent(ctx, roomID, "m.room.join_rules", "")
	if err != nil {
		return "", nil
	}
	var jr struct {
		JoinRule string `json:"join_rule"`
		Allow    []struct {
			Type   string `json:"type"`
			RoomID string `json:"room_id"`
		} `json:"allow"`
	}
	if json.Unmarshal(ev.Content(), &jr) != nil || (jr.JoinRule != "restricted" && jr.JoinRule != "knock_restricted") {
		return "", nil
	}
	if m, err := s.currentMembership(ctx, roomID, user); err != nil {
		return "", err
	} else if m == "join" || m == "invite" {
		return "", nil // the invite or the earlier join authorises it
	}
	known := false
	for _, cond := range jr.Allow {
		if cond.Type != "m.room_membership" { // unknown types are ignored
			continue
		}
		rid, err := spec.ParseRoomID(cond.RoomID)
		if err != nil {
			continue
		}
		if _, _, err := s.Room(ctx, rid); err != nil {
			continue // a room this server is not in cannot be checked
		}
		known = true
		if m, err := s.currentMembership(ctx, rid, user); err == nil && m == "join" {
			return s.authorisingMember(ctx, roomID)
		}
	}
	if !known {
		return "", ErrCannotCheck
	}
	return "", ErrNotAllowed
}

// currentMembership reads a user's membership in current state ("" if none).
func (s *Service) currentMembership(ctx context.Context, roomID spec.RoomID, user string) (string, error) {
	row, err := s.st.CurrentStateRow(ctx, string(roomID), "m.room.member", user)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return row.Membership, err
}

// authorisingMember picks a joined member of this server whose power reaches
// the invite level, the most powerful first (ties by user ID: a stable choice).
func (s *Service) authorisingMember(ctx context.Context, roomID spec.RoomID) (string, error) {
	pl, err := s.PowerLevels(ctx, roomID)
	if err != nil {
		return "", err
	}
	joined, err := s.Members(ctx, roomID, "join")
	if err != nil {
		return "", err
	}
	sort.Slice(joined, func(i, j int) bool {
		li, lj := pl.UserLevel(joined[i]), pl.UserLevel(joined[j])
		return li > lj || (li == lj && joined[i] < joined[j])
	})
	for _, u := range joined {
		if spec.UserID(u).Server() == s.opts.ServerName && pl.UserLevel(u) >= pl.Invite {
			return u, nil
		}
	}
	return "", ErrNoAuthoriser
}
