package membership

import (
	"context"
	"encoding/json"
	"net/url"

	"github.com/kabarchat/kabar/federation/event"
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
	body := map[string]any{"room_version": rv.ID, "event": json.RawMessage(ev.JSON()), "invite_room_state": stripped}
	var resp struct {
		Event json.RawMessage `json:"event"`
	}
	path := "/_matrix/federation/v2/invite/" + url.PathEscape(string(roomID)) + "/" + url.PathEscape(ev.EventID())
	if err := s.opts.Client.Do(ctx, invitee.Server(), "PUT", path, body, &resp); err != nil {
		return "", remoteErr(invitee.Server(), err)
	}
	signed, err := VerifyPDU(ctx, s.opts.Ring, rv, resp.Event)
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
