package membership

import (
	"context"
	"encoding/json"
	"net/url"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/models/spec"
)

// RemoteRoom reports whether a join or leave in the room has to go through
// another server: a room we do not know, or one where none of our users is
// joined any more while other servers are, or where the user's membership
// came from another server out of band (an invite to a room we are not
// in). Otherwise the room's state here is live and the local path is right.
func (s *Service) RemoteRoom(ctx context.Context, roomID spec.RoomID, user spec.UserID) (bool, error) {
	in, err := s.opts.Rooms.Participating(ctx, roomID)
	if err != nil || in {
		return false, err
	}
	if _, _, err := s.opts.Rooms.Room(ctx, roomID); err != nil {
		return true, nil
	}
	residents, err := s.opts.Rooms.ResidentServers(ctx, roomID)
	if err != nil || len(residents) > 0 {
		return len(residents) > 0, err
	}
	m, err := s.opts.Rooms.MemberEvent(ctx, roomID, user)
	return err == nil && spec.UserID(m.Sender()).Server() != s.opts.ServerName, nil
}

// candidateServers lists the servers that can help with a room we are not
// in: the caller's, the server of whoever set the user's membership (the
// inviter), the room ID's server (before rooms/v12) and the servers that
// were in the room when we last knew it.
func (s *Service) candidateServers(ctx context.Context, roomID spec.RoomID, user spec.UserID, first []spec.ServerName) []spec.ServerName {
	out := append([]spec.ServerName(nil), first...)
	seen := map[spec.ServerName]bool{s.opts.ServerName: true}
	for _, sv := range first {
		seen[sv] = true
	}
	add := func(sv spec.ServerName) {
		if sv != "" && !seen[sv] {
			seen[sv] = true
			out = append(out, sv)
		}
	}
	if m, err := s.opts.Rooms.MemberEvent(ctx, roomID, user); err == nil {
		add(spec.UserID(m.Sender()).Server())
	}
	if _, domain, ok := cutColon(string(roomID)); ok {
		add(spec.ServerName(domain))
	}
	residents, _ := s.opts.Rooms.ResidentServers(ctx, roomID)
	for _, sv := range residents {
		add(sv)
	}
	return out
}

func cutColon(id string) (string, string, bool) {
	for i := 0; i < len(id); i++ {
		if id[i] == ':' {
			return id[:i], id[i+1:], true
		}
	}
	return id, "", false
}

// LeaveRemote rejects an invite (or withdraws a knock) to a room this
// server is not in (server-server-api "Leaving Rooms (Rejecting
// Invites)"): make_leave and send_leave v2 through the inviting server or
// another resident one. If none answers, the invite is rejected locally
// with an out-of-band leave that no other server sees, so the user is no
// longer shown the invite either way.
func (s *Service) LeaveRemote(ctx context.Context, roomID spec.RoomID, user spec.UserID, reason string) error {
	m, err := s.opts.Rooms.MemberEvent(ctx, roomID, user)
	if err != nil {
		return err
	}
	switch membershipOf(m) {
	case "invite", "knock":
	default:
		return spec.Forbidden("%s is not invited to %s", user, roomID)
	}
	content := map[string]any{}
	if reason != "" {
		content["reason"] = reason
	}
	for _, server := range s.candidateServers(ctx, roomID, user, nil) {
		leave, err := s.leaveVia(ctx, roomID, user, server, content)
		if err == nil {
			return s.opts.Rooms.StoreOutOfBand(ctx, leave)
		}
		s.log.Info("remote leave failed", "room", roomID, "via", server, "err", err)
	}
	leave, err := s.localLeave(m, content)
	if err != nil {
		return err
	}
	return s.opts.Rooms.StoreOutOfBand(ctx, leave)
}

func (s *Service) leaveVia(ctx context.Context, roomID spec.RoomID, user spec.UserID, server spec.ServerName, content map[string]any) (*event.Event, error) {
	path := "/_matrix/federation/v1/make_leave/" + url.PathEscape(string(roomID)) + "/" + url.PathEscape(string(user))
	var ml makeJoinResponse // same shape: room_version and event
	if err := s.opts.Client.Do(ctx, server, "GET", path, nil, &ml); err != nil {
		return nil, remoteErr(server, err)
	}
	rv := event.LookupRoomVersion(ml.RoomVersion)
	if rv == nil {
		return nil, spec.NewError(400, spec.ErrIncompatibleRoomVer, "room version %q is not supported", ml.RoomVersion)
	}
	ev, err := s.fillTemplate(rv, ml.Event, roomID, user, "leave", content)
	if err != nil {
		return nil, err
	}
	path = "/_matrix/federation/v2/send_leave/" + url.PathEscape(string(roomID)) + "/" + url.PathEscape(ev.EventID())
	var resp json.RawMessage
	if err := s.opts.Client.Do(ctx, server, "PUT", path, json.RawMessage(ev.JSON()), &resp); err != nil {
		return nil, remoteErr(server, err)
	}
	return ev, nil
}

// localLeave builds the out-of-band leave that follows the invite (prev and
// auth event), signed by us and never sent: what a server does when the
// inviting server cannot be reached.
func (s *Service) localLeave(invite *event.Event, content map[string]any) (*event.Event, error) {
	c := map[string]any{"membership": "leave"}
	for k, v := range content {
		c[k] = v
	}
	sk := *invite.StateKey()
	b := &event.Builder{RoomID: invite.RoomID(), Sender: sk, Type: "m.room.member", StateKey: &sk, Content: c,
		PrevEvents: []string{invite.EventID()}, AuthEvents: []string{invite.EventID()}, Depth: invite.Depth() + 1}
	if invite.Version().EventFormat == 1 {
		h, err := invite.ReferenceHash()
		if err != nil {
			return nil, err
		}
		b.RefHashes = map[string][32]byte{invite.EventID(): h}
	}
	ev, err := b.Build(invite.Version(), string(s.opts.ServerName), s.opts.Key.ID, s.opts.Key.PrivateKey())
	if err != nil {
		return nil, event.MatrixError(err)
	}
	return ev, nil
}

// membershipOf returns content.membership.
func membershipOf(ev *event.Event) string {
	var c struct {
		Membership string `json:"membership"`
	}
	json.Unmarshal(ev.Content(), &c)
	return c.Membership
}
