package clientapi

import (
	"context"

	"github.com/kabarchat/kabar/models/spec"
)

// propagateProfile sends a fresh m.room.member join event with the new
// displayname/avatar_url into every room the user is joined to
// (client-server-api "Profiles": "the homeserver should ... update the
// m.room.member events"). A room that refuses it is logged, not fatal: the
// profile itself is already saved.
func (a *API) propagateProfile(ctx context.Context, user spec.UserID) {
	if a.opts.Rooms == nil {
		return
	}
	roomIDs, err := a.opts.Rooms.JoinedRooms(ctx, user)
	if err != nil {
		a.log.Warn("list rooms for profile update", "err", err)
		return
	}
	content := a.profileContent(ctx, string(user))
	for _, r := range roomIDs {
		if _, err := a.opts.Rooms.Membership(ctx, spec.RoomID(r), user, user, "join", "", content); err != nil {
			a.log.Warn("propagate profile to room", "room", r, "err", err)
		}
	}
}
