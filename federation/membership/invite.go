package membership

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/fedclient"
	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/models/spec"
)

// strippedTypes is the state an invitee's server is shown (client-server-api
// "Stripped state"), sent as invite_room_state.
var strippedTypes = []string{"m.room.create", "m.room.join_rules", "m.room.name", "m.room.canonical_alias", "m.room.avatar", "m.room.encryption", "m.room.topic"}

// InviteRemote invites a user of another server ("Inviting to a room"): the
// invite is built on the room's state, countersigned by the invitee's server
// through PUT /v2/invite, and only then stored and sent to the room.
func (s *Service) InviteRemote(ctx context.Context, roomID spec.RoomID, inviter, invitee spec.UserID, content map[string]any) (string, error) {
	_, rv, err := s.opts.Rooms.Room(ctx, roomID)
	if err != nil {
		return "", err
	}
	c := map[string]any{}
	for k, v := range content {
		c[k] = v
	}
	c["membership"] = "invite"
	sk := string(invitee)
	ev, err := s.opts.Rooms.BuildEvent(ctx, roomID, rooms.Proto{Type: "m.room.member", StateKey: &sk, Sender: string(inviter), Content: c})
	if err != nil {
		return "", err
	}
	stripped := []json.RawMessage{}
	for _, typ := range strippedTypes {
		st, err := s.opts.Rooms.StateEvent(ctx, roomID, typ, "")
		if err != nil {
			continue
		}
		// v1.16: the entries are full PDUs (invites-v2.yaml), which the
		// invitee's server may verify; older servers read the same fields.
		stripped = append(stripped, st.JSON())
	}
	answer, err := s.sendInvite(ctx, invitee.Server(), rv, ev, stripped)
	if err != nil {
		return "", err
	}
	signed, err := VerifyPDU(ctx, s.opts.Ring, rv, answer)
	if err != nil {
		e := spec.NewError(502, spec.ErrUnknown, "%s answered an invalid invite event", invitee.Server())
		e.Cause = err
		return "", e
	}
	if signed.EventID() != ev.EventID() || !s.countersigned(ctx, signed, invitee.Server()) {
		return "", spec.Forbidden("the invitee's server did not countersign the invite")
	}
	acc, err := s.opts.Rooms.AcceptRemote(ctx, signed)
	if err != nil {
		return "", matrixErr(err)
	}
	return acc.EventID, nil
}

// inviteAnswer is the {"event": ...} both invite APIs answer with.
type inviteAnswer struct {
	Event json.RawMessage `json:"event"`
}

// sendInvite asks the invitee's server to countersign ev through PUT
// /v2/invite. A server that does not know that endpoint (404/405, or 400
// M_UNRECOGNIZED) is asked again through the deprecated PUT /v1/invite if
// the room is of version 1 or 2, the only ones v1 can carry
// (invites-v2.yaml: "Senders which receive a 400 or 404 response to this
// endpoint should retry using the v1 API ... if the room version is "1" or
// "2""); for later versions the invitee's server cannot take part, which
// Synapse reports as 400 M_UNSUPPORTED_ROOM_VERSION
// (synapse/federation/federation_client.py, _do_send_invite). Other errors
// are not retried: they are the server's answer to the invite.
func (s *Service) sendInvite(ctx context.Context, server spec.ServerName, rv *event.RoomVersion, ev *event.Event, stripped []json.RawMessage) (json.RawMessage, error) {
	tail := url.PathEscape(ev.RoomID()) + "/" + url.PathEscape(ev.EventID())
	body := map[string]any{"room_version": rv.ID, "event": json.RawMessage(ev.JSON()), "invite_room_state": stripped}
	var v2 inviteAnswer
	err := s.opts.Client.Do(ctx, server, "PUT", "/_matrix/federation/v2/invite/"+tail, body, &v2)
	if err == nil {
		return v2.Event, nil
	}
	if !unknownEndpoint(err) {
		return nil, remoteErr(server, err)
	}
	if rv.EventFormat != 1 {
		return nil, spec.NewError(400, spec.ErrUnsupportedRoomVer, "%s does not support room version %s", server, rv.ID)
	}
	// invites-v1.yaml: the body is the event, the stripped state in its
	// unsigned.invite_room_state; the answer is [200, {"event": ...}].
	var v1 []json.RawMessage
	if err := s.opts.Client.Do(ctx, server, "PUT", "/_matrix/federation/v1/invite/"+tail, json.RawMessage(ev.WithStrippedState(stripped).JSON()), &v1); err != nil {
		return nil, remoteErr(server, err)
	}
	var a inviteAnswer
	if len(v1) != 2 || json.Unmarshal(v1[1], &a) != nil {
		return nil, spec.NewError(502, spec.ErrUnknown, "%s answered an invalid v1 invite response", server)
	}
	return a.Event, nil
}

// unknownEndpoint reports whether a server answered as one that does not
// implement the endpoint, as Synapse's _is_unknown_endpoint does: 404 or 405
// with M_UNRECOGNIZED or no Matrix error at all (MSC3743), or 400
// M_UNRECOGNIZED (older Dendrites). A 404 M_NOT_FOUND is a real answer
// ("no such user") and is not retried.
func unknownEndpoint(err error) bool {
	var he *fedclient.HTTPError
	if !errors.As(err, &he) {
		return false
	}
	unrecognized := he.Errcode == string(spec.ErrUnrecognized)
	return ((he.Status == 404 || he.Status == 405) && (he.Errcode == "" || unrecognized)) || (he.Status == 400 && unrecognized)
}

// countersigned checks server's signature on the (redacted) event.
func (s *Service) countersigned(ctx context.Context, ev *event.Event, server spec.ServerName) bool {
	redacted, err := event.RedactJSON(ev.Version(), ev.JSON())
	if err != nil {
		return false
	}
	for keyID := range ev.Signatures()[string(server)] {
		pub, err := s.opts.Ring.VerifyKey(ctx, string(server), keyID, 0)
		if err == nil && event.VerifyJSON(redacted, string(server), keyID, pub) == nil {
			return true
		}
	}
	return false
}
