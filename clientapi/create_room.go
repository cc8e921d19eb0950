package clientapi

import (
	"encoding/json"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/federation/canonicaljson"
	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/models/spec"
)

type createRoomRequest struct {
	Visibility                string            `json:"visibility"`
	RoomAliasName             *string           `json:"room_alias_name"`
	Name                      string            `json:"name"`
	Topic                     string            `json:"topic"`
	Invite                    []string          `json:"invite"`
	RoomVersion               string            `json:"room_version"`
	CreationContent           json.RawMessage   `json:"creation_content"`
	InitialState              []stateEventInput `json:"initial_state"`
	Preset                    string            `json:"preset"`
	IsDirect                  bool              `json:"is_direct"`
	PowerLevelContentOverride json.RawMessage   `json:"power_level_content_override"`
}

type stateEventInput struct {
	Type     string          `json:"type"`
	StateKey string          `json:"state_key"`
	Content  json.RawMessage `json:"content"`
}

// POST /createRoom (create_room.yaml).
func (a *API) createRoom(c echo.Context) error {
	var req createRoomRequest
	if err := echoserver.BindJSON(c, &req); err != nil {
		return err
	}
	remote := a.remoteInvitees(&req) // invited once the room exists
	cr, err := a.parseCreateRoom(&req, spec.UserID(session(c).UserID))
	if err != nil {
		return err
	}
	if cr.Alias != "" {
		if _, err := a.checkAliasNamespace(c, cr.Alias); err != nil {
			return err
		}
	}
	cr.CreatorProfile = a.profileContent(c.Request().Context(), string(cr.Creator))
	roomID, err := a.opts.Rooms.CreateRoom(c.Request().Context(), cr)
	if err != nil {
		return roomErr(err)
	}
	a.inviteRemotes(c.Request().Context(), roomID, cr.Creator, remote, req.IsDirect)
	return ok(c, map[string]string{"room_id": string(roomID)})
}

func (a *API) parseCreateRoom(req *createRoomRequest, creator spec.UserID) (rooms.CreateRequest, error) {
	cr := rooms.CreateRequest{Creator: creator, Version: req.RoomVersion, Preset: req.Preset,
		Visibility: req.Visibility, Name: req.Name, Topic: req.Topic, IsDirect: req.IsDirect,
	}
	switch req.Visibility {
	case "", "public", "private":
	default:
		return cr, spec.InvalidParam("visibility must be public or private")
	}
	switch req.Preset {
	case "", "private_chat", "public_chat", "trusted_private_chat":
	default:
		return cr, spec.InvalidParam("unknown preset %q", req.Preset)
	}
	if req.RoomAliasName != nil {
		alias, err := a.localAlias(*req.RoomAliasName)
		if err != nil {
			return cr, err
		}
		cr.Alias = alias
	}
	for _, raw := range req.Invite {
		u, err := a.localInvitee(raw)
		if err != nil {
			return cr, err
		}
		cr.Invite = append(cr.Invite, u)
	}
	var err error
	if cr.CreationContent, err = optionalObject("creation_content", req.CreationContent); err != nil {
		return cr, err
	}
	if cr.PowerLevelOverride, err = optionalObject("power_level_content_override", req.PowerLevelContentOverride); err != nil {
		return cr, err
	}
	for i, s := range req.InitialState {
		if s.Type == "" {
			return cr, spec.BadJSON("initial_state[%d].type is required", i)
		}
		if err := checkEventField("state event type", s.Type); err != nil {
			return cr, err
		}
		if err := checkEventField("state key", s.StateKey); err != nil {
			return cr, err
		}
		content, err := optionalObject("initial_state content", s.Content)
		if err != nil {
			return cr, err
		}
		key := s.StateKey
		cr.InitialState = append(cr.InitialState, rooms.Proto{Type: s.Type, StateKey: &key, Content: content})
	}
	return cr, nil
}

// localAlias builds #name:ourserver from room_alias_name or a PUT path;
// 400 M_INVALID_PARAM if it is not a valid alias.
func (a *API) localAlias(name string) (spec.RoomAlias, error) {
	if name == "" || strings.ContainsAny(name, ": \t\n#") {
		return "", spec.InvalidParam("room_alias_name %q is not a valid alias localpart", name)
	}
	alias, err := spec.ParseRoomAlias("#" + name + ":" + string(a.opts.ServerName))
	if err != nil {
		return "", spec.InvalidParam("invalid room alias: %v", err)
	}
	return alias, nil
}

// localInvitee parses a user to invite. NOTSPEC (until federation lands):
// inviting users of other servers needs the federation invite handshake,
// so it is refused with 403 rather than creating an invite nobody receives.
func (a *API) localInvitee(raw string) (spec.UserID, error) {
	u, err := spec.ParseUserID(raw)
	if err != nil {
		return "", spec.InvalidParam("invalid user ID %q", raw)
	}
	if u.Server() != a.opts.ServerName {
		return "", spec.Forbidden("inviting users of other servers is not supported yet")
	}
	return u, nil
}

// optionalObject decodes an optional JSON object strictly (canonical JSON
// values, as event content needs); nil if absent or null.
func optionalObject(field string, raw json.RawMessage) (map[string]any, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	tree, err := canonicaljson.Decode(raw)
	if err != nil {
		return nil, spec.BadJSON("%s: %v", field, err)
	}
	obj, isObj := tree.(map[string]any)
	if !isObj {
		return nil, spec.BadJSON("%s must be an object", field)
	}
	return obj, nil
}
