package receiver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sort"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// Errcodes of make_join for restricted rooms (server-server-api
// "Restricted rooms", joins-v1.yaml make_join 400).
const (
	errUnableToAuthorise spec.Errcode = "M_UNABLE_TO_AUTHORISE_JOIN"
	errUnableToGrant     spec.Errcode = "M_UNABLE_TO_GRANT_JOIN"
)

// joinRules is the part of m.room.join_rules a restricted join reads.
type joinRules struct {
	JoinRule string `json:"join_rule"`
	Allow    []struct {
		Type   string `json:"type"`
		RoomID string `json:"room_id"`
	} `json:"allow"`
}

// restrictedVia decides make_join for a restricted or knock_restricted room
// (server-server-api "Restricted rooms"; rooms v8+ auth rule 4.3.1): the
// resident server checks that the remote user is joined to a room of the
// allow list and names a local member who may invite in the template's
// join_authorised_via_users_server. "" means no authorising user is needed.
func (r *Receiver) restrictedVia(ctx context.Context, roomID spec.RoomID, rv *event.RoomVersion, user spec.UserID) (string, error) {
	if !rv.Restricted {
		return "", nil
	}
	ev, err := r.opts.Rooms.StateEvent(ctx, roomID, "m.room.join_rules", "")
	if err != nil {
		return "", nil // no join rules: the auth rules decide
	}
	var jr joinRules
	if json.Unmarshal(ev.Content(), &jr) != nil || (jr.JoinRule != "restricted" && jr.JoinRule != "knock_restricted") {
		return "", nil
	}
	if m, err := r.currentMembership(ctx, roomID, string(user)); err != nil {
		return "", err
	} else if m == "join" || m == "invite" {
		return "", nil // the invite or the earlier join authorises it
	}
	known, met := false, false
	for _, cond := range jr.Allow {
		if cond.Type != "m.room_membership" { // unknown types are ignored
			continue
		}
		if _, _, err := r.opts.Rooms.Room(ctx, spec.RoomID(cond.RoomID)); err != nil {
			continue // a room this server is not in cannot be checked
		}
		known = true
		if m, err := r.currentMembership(ctx, spec.RoomID(cond.RoomID), string(user)); err == nil && m == "join" {
			met = true
			break
		}
	}
	switch {
	case met:
		return r.authorisingMember(ctx, roomID)
	case !known:
		return "", spec.NewError(http.StatusBadRequest, errUnableToAuthorise, "this server cannot check any of the room's allow conditions")
	}
	return "", spec.Forbidden("%s is not a member of a room this room allows, nor invited", user)
}

// currentMembership reads a user's membership in the current state ("" if none).
func (r *Receiver) currentMembership(ctx context.Context, roomID spec.RoomID, user string) (string, error) {
	row, err := r.opts.Rooms.Store().CurrentStateRow(ctx, string(roomID), "m.room.member", user)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return row.Membership, err
}

// authorisingMember picks a local joined member whose power reaches the
// invite level, the most powerful first (ties by user ID: a stable choice).
func (r *Receiver) authorisingMember(ctx context.Context, roomID spec.RoomID) (string, error) {
	pl, err := r.opts.Rooms.PowerLevels(ctx, roomID)
	if err != nil {
		return "", roomErr(err)
	}
	joined, err := r.opts.Rooms.Members(ctx, roomID, "join")
	if err != nil {
		return "", roomErr(err)
	}
	sort.Slice(joined, func(i, j int) bool {
		li, lj := pl.UserLevel(joined[i]), pl.UserLevel(joined[j])
		return li > lj || (li == lj && joined[i] < joined[j])
	})
	for _, u := range joined {
		if spec.UserID(u).Server() == r.opts.ServerName && pl.UserLevel(u) >= pl.Invite {
			return u, nil
		}
	}
	return "", spec.NewError(http.StatusBadRequest, errUnableToGrant, "no member of this server may invite: try another server")
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
