package clientapi

import (
	"context"

	"github.com/kabarchat/kabar/models/spec"
)

// Ban and unban (banning.yaml) are served by targetMembership in
// kicking.go: kick, ban and unban all send a membership for another user.

// requireBanned is unban's precondition: unbanning is a leave event for a
// banned user; for anyone else it would be a kick.
func (a *API) requireBanned(ctx context.Context, roomID spec.RoomID, target spec.UserID) error {
	m, err := a.membership(ctx, roomID, string(target))
	if err != nil {
		return err
	}
	if m.Membership != "ban" {
		return spec.Forbidden("%s is not banned", target)
	}
	return nil
}
