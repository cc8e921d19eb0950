package clientapi

import (
	"context"
	"errors"

	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/models/spec"
)

// restrictedJoinVia decides a local join to a restricted or knock_restricted
// room through the room service (client-server-api "Restricted rooms") and
// turns its refusals into 403 M_FORBIDDEN. "" means no authorising user is
// needed.
func (a *API) restrictedJoinVia(ctx context.Context, roomID spec.RoomID, user string) (string, error) {
	via, err := a.opts.Rooms.AuthoriseRestrictedJoin(ctx, roomID, user)
	switch {
	case errors.Is(err, rooms.ErrNotAllowed), errors.Is(err, rooms.ErrCannotCheck):
		return "", spec.Forbidden("you must be a member of one of the rooms this room allows, or be invited")
	case errors.Is(err, rooms.ErrNoAuthoriser):
		return "", spec.Forbidden("no member of this server can authorise your join to the restricted room")
	}
	return via, err
}
