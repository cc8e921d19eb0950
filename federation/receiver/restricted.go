package receiver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/models/spec"
)

// Errcodes of make_join for restricted rooms (server-server-api
// "Restricted rooms", joins-v1.yaml make_join 400).
const (
	errUnableToAuthorise spec.Errcode = "M_UNABLE_TO_AUTHORISE_JOIN"
	errUnableToGrant     spec.Errcode = "M_UNABLE_TO_GRANT_JOIN"
)

// restrictedVia decides make_join for a restricted room through the room
// service and maps its refusals to make_join's errors (joins-v1.yaml: 403,
// or 400 M_UNABLE_TO_AUTHORISE_JOIN / M_UNABLE_TO_GRANT_JOIN so the joining
// server tries another resident server).
func (r *Receiver) restrictedVia(ctx context.Context, roomID spec.RoomID, user spec.UserID) (string, error) {
	via, err := r.opts.Rooms.AuthoriseRestrictedJoin(ctx, roomID, string(user))
	switch {
	case errors.Is(err, rooms.ErrNotAllowed):
		return "", spec.Forbidden("%s is not a member of a room this room allows, nor invited", user)
	case errors.Is(err, rooms.ErrCannotCheck):
		return "", spec.NewError(http.StatusBadRequest, errUnableToAuthorise, "this server cannot check any of the room's allow conditions")
	case errors.Is(err, rooms.ErrNoAuthoriser):
		return "", spec.NewError(http.StatusBadRequest, errUnableToGrant, "no member of this server may invite: try another server")
	case err != nil:
		return "", roomErr(err)
	}
	return via, nil
}

// authorisedVia returns a join's join_authorised_via_users_server ("" if none).
func authorisedVia(ev *event.Event) string {
	var c struct {
		Via string `json:"join_authorised_via_users_server"`
	}
	json.Unmarshal(ev.Content(), &c)
	return c.Via
}

// countersign adds this server's signature to a send_join event whose
// join_authorised_via_users_server is one of our users ("Restricted rooms":
// the resident server signs the event before accepting and relaying it).
// Whether that user may authorise the join is left to the auth rules.
func (r *Receiver) countersign(rv *event.RoomVersion, raw []byte) ([]byte, error) {
	if !rv.Restricted || r.opts.Key == nil {
		return raw, nil
	}
	ev, err := event.Parse(rv, raw)
	if err != nil {
		return nil, event.MatrixError(err)
	}
	via, err := spec.ParseUserID(authorisedVia(ev))
	if err != nil || via.Server() != r.opts.ServerName {
		return raw, nil
	}
	signed, err := ev.Sign(string(r.opts.ServerName), r.opts.Key.ID, r.opts.Key.PrivateKey())
	if err != nil {
		return nil, event.MatrixError(err)
	}
	return signed.JSON(), nil
}
