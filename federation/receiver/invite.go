package receiver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/xmatrix"
	"github.com/kabarchat/kabar/models/spec"
)

// inviteRequest is the body of PUT /v2/invite.
type inviteRequest struct {
	RoomVersion     string            `json:"room_version"`
	Event           json.RawMessage   `json:"event"`
	InviteRoomState []json.RawMessage `json:"invite_room_state"`
}

// invite is PUT /v2/invite/{roomId}/{eventId} (server-server-api "Inviting
// to a room"): we countersign an invite of one of our users and keep it so
// the user sees it.
func (r *Receiver) invite(c echo.Context) error {
	var req inviteRequest
	if err := echoserver.BindJSON(c, &req); err != nil {
		return err
	}
	rv := event.LookupRoomVersion(req.RoomVersion)
	if rv == nil {
		return incompatibleVersion(req.RoomVersion)
	}
	signed, err := r.countersignInvite(c, rv, req.Event, req.InviteRoomState)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]json.RawMessage{"event": signed.JSON()})
}

// inviteV1 is the deprecated PUT /v1/invite/{roomId}/{eventId}
// (invites-v1.yaml): the body is the event itself, the room's stripped
// state rides in its unsigned.invite_room_state, and the answer is
// [200, {"event": ...}]. A v1 invite is for room version 1 or 2, which
// share one event format; a room we know keeps its own version, one we do
// not is taken as version 1.
func (r *Receiver) inviteV1(c echo.Context) error {
	var raw json.RawMessage
	if err := echoserver.BindJSON(c, &raw); err != nil {
		return err
	}
	var body struct {
		Unsigned struct {
			InviteRoomState []json.RawMessage `json:"invite_room_state"`
		} `json:"unsigned"`
	}
	if json.Unmarshal(raw, &body) != nil {
		return spec.BadJSON("the invite event must be a JSON object")
	}
	rv := event.LookupRoomVersion("1")
	if roomID, err := r.pathRoomID(c); err == nil {
		if known, err := r.roomVersion(c.Request().Context(), roomID); err == nil {
			rv = known
		}
	}
	if rv.EventFormat != 1 {
		return incompatibleVersion(rv.ID)
	}
	signed, err := r.countersignInvite(c, rv, raw, body.Unsigned.InviteRoomState)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, []any{http.StatusOK, map[string]json.RawMessage{"event": signed.JSON()}})
}

// incompatibleVersion is 400 M_INCOMPATIBLE_ROOM_VERSION naming the version
// (invites-v2.yaml: room_version is required with that errcode).
func incompatibleVersion(version string) error {
	e := spec.NewError(http.StatusBadRequest, spec.ErrIncompatibleRoomVer, "room version %q is not supported", version)
	e.Extra = map[string]any{"room_version": version}
	return e
}

// countersignInvite checks an invite of rv against the path and the origin,
// signs it as the invitee's server and keeps it with the room's stripped
// state. The checks "servers MUST apply" (invites-v2.yaml) answer 400
// M_INVALID_PARAM, as the spec recommends: a bad signature, not an
// m.room.member invite, a sender not on the origin, an invitee not ours.
func (r *Receiver) countersignInvite(c echo.Context, rv *event.RoomVersion, raw json.RawMessage, state []json.RawMessage) (*event.Event, error) {
	roomID, eventID, err := r.pathEvent(c)
	if err != nil {
		return nil, err
	}
	ctx := c.Request().Context()
	origin := xmatrix.Origin(c)
	if err := r.checkACL(ctx, string(roomID), origin); err != nil {
		return nil, err
	}
	if len(raw) == 0 || raw[0] != '{' {
		return nil, spec.BadJSON("the invite event must be a JSON object")
	}
	ev, err := r.checkPDU(ctx, rv, raw)
	var me *spec.Error
	if errors.As(err, &me) && me.Status == http.StatusForbidden {
		return nil, invalidInvite(err) // the signature check
	} else if err != nil {
		return nil, err // malformed (M_BAD_JSON) or too large
	}
	if err := checkMembershipEvent(ev, roomID, eventID, origin, "invite"); err != nil {
		return nil, invalidInvite(err)
	}
	invitee, err := spec.ParseUserID(*ev.StateKey())
	if err != nil || invitee.Server() != r.opts.ServerName {
		return nil, spec.InvalidParam("the invitee is not a user of this server")
	}
	if _, err := r.opts.Store.GetProfile(ctx, string(invitee)); err != nil {
		return nil, spec.NotFound("no such user %s", invitee)
	}
	signed, err := ev.Sign(string(r.opts.ServerName), r.opts.Ring.KeyID(), r.opts.Ring.PrivateKey())
	if err != nil {
		return nil, err
	}
	if err := r.storeInvite(ctx, origin, signed.WithStrippedState(state)); err != nil {
		return nil, roomErr(err)
	}
	return signed, nil
}

// invalidInvite turns a failed invite check into 400 M_INVALID_PARAM
// (invites-v2.yaml), keeping the reason for the requester and the cause for
// the log.
func invalidInvite(err error) error {
	var me *spec.Error
	if !errors.As(err, &me) {
		return err
	}
	e := spec.InvalidParam("%s", me.Message)
	e.Cause = me.Cause
	return e
}

// pathRoomID parses the roomId path parameter.
func (r *Receiver) pathRoomID(c echo.Context) (spec.RoomID, error) {
	roomID, err := spec.ParseRoomID(c.Param("roomId"))
	if err != nil {
		return "", spec.InvalidParam("bad room ID")
	}
	return roomID, nil
}

// pathEvent parses the roomId and eventId path parameters of the invite and
// send_* endpoints.
func (r *Receiver) pathEvent(c echo.Context) (spec.RoomID, string, error) {
	roomID, err := r.pathRoomID(c)
	if err != nil {
		return "", "", err
	}
	return roomID, c.Param("eventId"), nil
}

// storeInvite keeps the countersigned invite. In a room we take part in it
// is a room event like any other, so prev events we lack are fetched from
// the inviting server first; otherwise it is kept out of band.
func (r *Receiver) storeInvite(ctx context.Context, origin spec.ServerName, ev *event.Event) error {
	in, err := r.opts.Rooms.Participating(ctx, spec.RoomID(ev.RoomID()))
	if err != nil {
		return err
	}
	if in {
		return r.acceptWithGaps(ctx, origin, ev)
	}
	return r.opts.Rooms.StoreInvite(ctx, ev)
}
