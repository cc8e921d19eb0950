package rooms

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// CreateRequest is a parsed createRoom request (client-server-api
// "Creation", POST /createRoom).
type CreateRequest struct {
	Creator spec.UserID
	// Version is the room version; the configured default if empty.
	Version string
	// Preset is private_chat, trusted_private_chat or public_chat; if empty
	// it follows Visibility ("public" -> public_chat, else private_chat).
	Preset     string
	Visibility string
	Name       string
	Topic      string
	// Alias is the full alias built from room_alias_name, or "".
	Alias              spec.RoomAlias
	Invite             []spec.UserID
	IsDirect           bool
	InitialState       []Proto
	CreationContent    map[string]any
	PowerLevelOverride map[string]any
	// CreatorProfile is the displayname/avatar_url the creator's join event
	// carries, as every other join does.
	CreatorProfile map[string]any
}

// CreateRoom creates a room with all its initial events in one transaction
// and returns its ID. Nobody else can write to a room before it exists, so
// this does not need the room's actor.
func (s *Service) CreateRoom(ctx context.Context, r CreateRequest) (spec.RoomID, error) {
	version := r.Version
	if version == "" {
		version = s.opts.DefaultRoomVersion
	}
	rv := event.LookupRoomVersion(version)
	if rv == nil {
		return "", spec.NewError(400, spec.ErrUnsupportedRoomVer, "room version %q is not supported", version)
	}
	w := &writer{svc: s, rv: rv, stateEvents: map[int64]*event.Event{}}
	if !rv.RoomIDFromCreate {
		w.room.RoomID = "!" + randomLocal() + ":" + string(s.opts.ServerName)
	}
	b := newBatch(w)
	for i, p := range createEvents(rv, r) {
		ev, err := w.add(ctx, b, &p)
		if err != nil {
			return "", initialStateError(i, p.Type, err)
		}
		if i == 0 && rv.RoomIDFromCreate {
			w.room.RoomID = event.RoomIDFromCreate(ev)
		}
	}
	w.room.Version, w.room.Creator = version, string(r.Creator)
	w.room.CreatedAt = s.opts.Now().UnixMilli()
	w.room.IsPublic = r.Visibility == "public"
	room := w.room
	b.newRoom = &room
	if r.Alias != "" {
		// Same transaction as the room: a taken alias leaves no room behind.
		b.newAlias = &models.RoomAlias{Alias: string(r.Alias), RoomID: w.room.RoomID,
			Creator: string(r.Creator), CreatedAt: w.room.CreatedAt}
	}
	if _, err := w.persist(ctx, b); err != nil {
		if errors.Is(err, store.ErrConflict) && r.Alias != "" {
			return "", spec.NewError(400, spec.ErrRoomInUse, "room alias %s is already taken", r.Alias)
		}
		return "", err
	}
	return spec.RoomID(w.room.RoomID), nil
}

// initialStateError reports an initial event the auth rules refuse as
// 400 M_INVALID_ROOM_STATE (createRoom: "the initial state implied by the
// parameters to the request is invalid").
func initialStateError(i int, typ string, err error) error {
	var me *spec.Error
	if errors.As(err, &me) && me.Code == spec.ErrForbidden {
		return spec.NewError(400, spec.ErrInvalidRoomState, "initial event %d (%s): %s", i, typ, me.Message)
	}
	if errors.As(err, &me) {
		return me
	}
	return fmt.Errorf("createRoom event %d (%s): %w", i, typ, err)
}

func randomLocal() string {
	var b [18]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func state(typ, key, sender string, content map[string]any) Proto {
	return Proto{Type: typ, StateKey: &key, Sender: sender, Content: content}
}

// createEvents lists the initial events in the order createRoom specifies:
// create, creator's join, power levels, canonical alias, the preset's
// join rules / history visibility / guest access, initial_state, name,
// topic, invites.
func createEvents(rv *event.RoomVersion, r CreateRequest) []Proto {
	creator := string(r.Creator)
	preset := r.Preset
	if preset == "" {
		preset = "private_chat"
		if r.Visibility == "public" {
			preset = "public_chat"
		}
	}
	create := maps.Clone(r.CreationContent)
	if create == nil {
		create = map[string]any{}
	}
	create["room_version"] = rv.ID
	if !rv.CreatorInSender {
		create["creator"] = creator
	}
	if preset == "trusted_private_chat" && rv.RoomIDFromCreate && len(r.Invite) > 0 {
		// rooms/v12: invitees of a trusted private chat become creators.
		extra := make([]any, len(r.Invite))
		for i, u := range r.Invite {
			extra[i] = string(u)
		}
		create["additional_creators"] = extra
	}
	evs := []Proto{
		state("m.room.create", "", creator, create),
		state("m.room.member", creator, creator, creatorJoin(r.CreatorProfile)),
		state("m.room.power_levels", "", creator, powerLevels(rv, r, preset)),
	}
	if r.Alias != "" {
		evs = append(evs, state("m.room.canonical_alias", "", creator, map[string]any{"alias": string(r.Alias)}))
	}
	joinRule, guest := "invite", "can_join"
	if preset == "public_chat" {
		joinRule, guest = "public", "forbidden"
	}
	evs = append(evs,
		state("m.room.join_rules", "", creator, map[string]any{"join_rule": joinRule}),
		state("m.room.history_visibility", "", creator, map[string]any{"history_visibility": "shared"}),
		state("m.room.guest_access", "", creator, map[string]any{"guest_access": guest}))
	for _, p := range r.InitialState {
		p.Sender = creator
		evs = append(evs, p)
	}
	if r.Name != "" {
		evs = append(evs, state("m.room.name", "", creator, map[string]any{"name": r.Name}))
	}
	if r.Topic != "" {
		evs = append(evs, state("m.room.topic", "", creator, map[string]any{"topic": r.Topic}))
	}
	for _, u := range r.Invite {
		content := map[string]any{"membership": "invite"}
		if r.IsDirect {
			content["is_direct"] = true
		}
		evs = append(evs, state("m.room.member", string(u), creator, content))
	}
	return evs
}

// powerLevels is the default m.room.power_levels of a new room with the
// request's override applied on top (createRoom power_level_content_override).
func powerLevels(rv *event.RoomVersion, r CreateRequest, preset string) map[string]any {
	users := map[string]any{}
	if !rv.RoomIDFromCreate {
		// From v12 creators have unlimited power and are not listed.
		users[string(r.Creator)] = int64(100)
		if preset == "trusted_private_chat" {
			for _, u := range r.Invite {
				users[string(u)] = int64(100)
			}
		}
	}
	pl := map[string]any{
		"users": users, "users_default": int64(0), "events_default": int64(0),
		"state_default": int64(50), "ban": int64(50), "kick": int64(50), "redact": int64(50),
		"invite": int64(0),
		"events": map[string]any{
			"m.room.name": int64(50), "m.room.power_levels": int64(100),
			"m.room.history_visibility": int64(100), "m.room.canonical_alias": int64(50),
			"m.room.avatar": int64(50), "m.room.tombstone": int64(100),
			"m.room.server_acl": int64(100), "m.room.encryption": int64(100),
		},
	}
	for k, v := range r.PowerLevelOverride {
		pl[k] = v
	}
	return pl
}

// creatorJoin is the creator's join content: the profile fields plus
// membership.
func creatorJoin(profile map[string]any) map[string]any {
	content := make(map[string]any, len(profile)+1)
	for k, v := range profile {
		content[k] = v
	}
	content["membership"] = "join"
	return content
}
