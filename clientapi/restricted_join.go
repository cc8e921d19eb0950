package clientapi

import (
	"context"
	"encoding/json"
	"sort"

	"github.com/kabarchat/kabar/models/spec"
)

// joinRulesContent is the part of m.room.join_rules a restricted join reads.
type joinRulesContent struct {
	JoinRule string `json:"join_rule"`
	Allow    []struct {
		Type   string `json:"type"`
		RoomID string `json:"room_id"`
	} `json:"allow"`
}

// restrictedJoinVia decides a local join to a room whose join rule is
// restricted or knock_restricted (client-server-api "Restricted rooms",
// rooms v8/v10 auth rule 4.3.1): the server checks that the user is joined
// to a room of the allow list and names, in join_authorised_via_users_server,
// a local joined member who may invite. It returns "" when the join needs no
// authorising user (another join rule, or the user is already invited or
// joined) and M_FORBIDDEN when no allow condition holds.
func (a *API) restrictedJoinVia(ctx context.Context, roomID spec.RoomID, user string) (string, error) {
	ev, err := a.opts.Rooms.StateEvent(ctx, roomID, "m.room.join_rules", "")
	if err != nil {
		return "", nil // no join rules: the auth rules decide
	}
	var jr joinRulesContent
	if json.Unmarshal(ev.Content(), &jr) != nil || (jr.JoinRule != "restricted" && jr.JoinRule != "knock_restricted") {
		return "", nil
	}
	if m, err := a.membership(ctx, roomID, user); err != nil {
		return "", err
	} else if m.Membership == "join" || m.Membership == "invite" {
		return "", nil
	}
	if !a.meetsAllow(ctx, jr, user) {
		return "", spec.Forbidden("you must be a member of one of the rooms this room allows, or be invited")
	}
	return a.authorisingMember(ctx, roomID)
}

// meetsAllow: the user is joined to one of the m.room_membership rooms.
// Unknown condition types are ignored, as the spec requires.
func (a *API) meetsAllow(ctx context.Context, jr joinRulesContent, user string) bool {
	for _, cond := range jr.Allow {
		if cond.Type != "m.room_membership" {
			continue
		}
		rid, err := spec.ParseRoomID(cond.RoomID)
		if err != nil {
			continue
		}
		if m, err := a.membership(ctx, rid, user); err == nil && m.Membership == "join" {
			return true
		}
	}
	return false
}

// authorisingMember picks a local joined member whose power level reaches
// the invite level, the most powerful first (ties by user ID, so the choice
// is stable).
func (a *API) authorisingMember(ctx context.Context, roomID spec.RoomID) (string, error) {
	pl, err := a.opts.Rooms.PowerLevels(ctx, roomID)
	if err != nil {
		return "", err
	}
	joined, err := a.opts.Rooms.Members(ctx, roomID, "join")
	if err != nil {
		return "", err
	}
	sort.Slice(joined, func(i, j int) bool {
		li, lj := pl.UserLevel(joined[i]), pl.UserLevel(joined[j])
		return li > lj || (li == lj && joined[i] < joined[j])
	})
	for _, u := range joined {
		if spec.UserID(u).Server() == a.opts.ServerName && pl.UserLevel(u) >= pl.Invite {
			return u, nil
		}
	}
	return "", spec.Forbidden("no member of this server can authorise your join to the restricted room")
}
