package rooms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kabarchat/kabar/federation/canonicaljson"
	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/models/spec"
)

// transferable are the state events an upgrade copies (client-server-api
// "Room Upgrades", server behaviour step 3), plus the canonical alias, which
// follows the aliases to the new room.
var transferable = []string{"m.room.server_acl", "m.room.encryption", "m.room.name", "m.room.avatar",
	"m.room.topic", "m.room.guest_access", "m.room.history_visibility", "m.room.join_rules", "m.room.canonical_alias"}

// UpgradeRoom replaces a room by a new one of another version, following
// the server behaviour of client-server-api "Room Upgrades": permission to
// send a tombstone, a create event with predecessor (and the old type),
// transferable state and power levels copied, local aliases moved, the
// tombstone sent, and the old room's power levels restricted.
func (s *Service) UpgradeRoom(ctx context.Context, oldID spec.RoomID, user spec.UserID, version string, extraCreators []spec.UserID) (spec.RoomID, error) {
	if rv := event.LookupRoomVersion(version); rv == nil {
		return "", spec.NewError(400, spec.ErrUnsupportedRoomVer, "room version %q is not supported", version)
	}
	if _, _, err := s.Room(ctx, oldID); err != nil {
		return "", err
	}
	pl, err := s.PowerLevels(ctx, oldID)
	if err != nil {
		return "", err
	}
	if pl.UserLevel(string(user)) < pl.EventLevel("m.room.tombstone", true) {
		return "", spec.Forbidden("upgrading the room needs power level %d", pl.EventLevel("m.room.tombstone", true))
	}
	req, err := s.upgradeRequest(ctx, oldID, user, version, extraCreators)
	if err != nil {
		return "", err
	}
	newID, err := s.CreateRoom(ctx, req)
	if err != nil {
		return "", err
	}
	if err := s.st.MoveAliases(ctx, string(oldID), string(newID)); err != nil {
		return "", err
	}
	if err := s.carryMembers(ctx, oldID, newID, user); err != nil {
		return "", err
	}
	empty := ""
	tomb := Proto{Type: "m.room.tombstone", StateKey: &empty, Sender: string(user),
		Content: map[string]any{"body": "This room has been replaced", "replacement_room": string(newID)}}
	if _, err := s.Send(ctx, oldID, tomb, Txn{}); err != nil {
		return "", fmt.Errorf("send tombstone: %w", err)
	}
	s.restrictOldRoom(ctx, oldID, user)
	return newID, nil
}

func (s *Service) upgradeRequest(ctx context.Context, oldID spec.RoomID, user spec.UserID, version string, extraCreators []spec.UserID) (CreateRequest, error) {
	req := CreateRequest{Creator: user, Version: version, Preset: "private_chat"}
	create, err := s.StateEvent(ctx, oldID, "m.room.create", "")
	if err != nil {
		return req, err
	}
	extr, err := s.st.ForwardExtremities(ctx, string(oldID))
	if err != nil || len(extr) == 0 {
		return req, fmt.Errorf("last event of %s: %w", oldID, errors.Join(err, errors.New("no extremities")))
	}
	req.CreationContent = map[string]any{"predecessor": map[string]any{"room_id": string(oldID), "event_id": extr[0]}}
	if typ := contentValue(create.Content(), "type"); typ != nil {
		req.CreationContent["type"] = typ
	}
	newRV := event.LookupRoomVersion(version)
	if newRV.RoomIDFromCreate && len(extraCreators) > 0 {
		list := make([]any, len(extraCreators))
		for i, u := range extraCreators {
			list[i] = string(u)
		}
		req.CreationContent["additional_creators"] = list
	}
	for _, typ := range transferable {
		ev, err := s.StateEvent(ctx, oldID, typ, "")
		if err != nil {
			continue // not set in the old room
		}
		content, err := decodeContent(ev.Content())
		if err != nil {
			return req, err
		}
		req.InitialState = append(req.InitialState, state(typ, "", string(user), content))
	}
	if plEv, err := s.StateEvent(ctx, oldID, "m.room.power_levels", ""); err == nil {
		content, err := decodeContent(plEv.Content())
		if err != nil {
			return req, err
		}
		users, _ := content["users"].(map[string]any)
		if users == nil {
			users = map[string]any{}
		}
		if newRV.RoomIDFromCreate { // creators must not be listed (rooms/v12)
			delete(users, string(user))
			for _, u := range extraCreators {
				delete(users, string(u))
			}
		} else {
			users[string(user)] = int64(100)
		}
		content["users"] = users
		req.PowerLevelOverride = content
	}
	return req, nil
}

// restrictOldRoom raises events_default and invite in the old room to
// max(50, users_default+1) (step 6, "if possible": failures are logged).
func (s *Service) restrictOldRoom(ctx context.Context, oldID spec.RoomID, user spec.UserID) {
	plEv, err := s.StateEvent(ctx, oldID, "m.room.power_levels", "")
	if err != nil {
		return
	}
	content, err := decodeContent(plEv.Content())
	if err != nil {
		return
	}
	usersDefault, _ := content["users_default"].(int64)
	level := max(int64(50), usersDefault+1)
	content["events_default"], content["invite"] = level, level
	empty := ""
	_, err = s.Send(ctx, oldID, Proto{Type: "m.room.power_levels", StateKey: &empty, Sender: string(user), Content: content}, Txn{})
	if err != nil {
		s.log.Warn("restrict power levels of upgraded room", "room", oldID, "err", err)
	}
}

func decodeContent(raw []byte) (map[string]any, error) {
	tree, err := canonicaljson.Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("decode stored content: %w", err)
	}
	m, _ := tree.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

func contentValue(raw []byte, key string) any {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m[key]
}

// carryMembers copies the old room's bans into the new room, and invites its
// joined local members when the new room's join rule would keep them out
// (anything but public). NOTSPEC: the spec (step 3) transfers no membership
// events, because servers cannot send events for other servers' users; a ban
// or an invite is sent by the upgrading user, so it is not impersonation, and
// Synapse copies bans the same way. Remote members are not invited: their
// invite would need the invite handshake of the federation API; they can
// still follow the tombstone into public or restricted rooms.
func (s *Service) carryMembers(ctx context.Context, oldID, newID spec.RoomID, user spec.UserID) error {
	banned, err := s.Members(ctx, oldID, "ban")
	if err != nil {
		return err
	}
	for _, u := range banned {
		if _, err := s.Membership(ctx, newID, user, spec.UserID(u), "ban", "", nil); err != nil {
			return fmt.Errorf("carry ban of %s: %w", u, err)
		}
	}
	rule := "invite"
	if jr, err := s.StateEvent(ctx, newID, "m.room.join_rules", ""); err == nil {
		rule, _ = contentValue(jr.Content(), "join_rule").(string)
	}
	if rule == "public" {
		return nil
	}
	joined, err := s.Members(ctx, oldID, "join")
	if err != nil {
		return err
	}
	for _, u := range joined {
		if u == string(user) || spec.UserID(u).Server() != s.opts.ServerName {
			continue
		}
		if _, err := s.Membership(ctx, newID, user, spec.UserID(u), "invite", "", nil); err != nil {
			return fmt.Errorf("invite %s to the upgraded room: %w", u, err)
		}
	}
	return nil
}
