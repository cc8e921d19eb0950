package clientapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/clientapi/clientevent"
	syncapi "github.com/kabarchat/kabar/clientapi/sync"
	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/federation/canonicaljson"
	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// registerRooms mounts the room routes (rooms.yaml and the other room API
// files: create_room, joining, leaving, ..., report_content). /sync,
// /messages and /context belong to the sync area.
func (a *API) registerRooms(g routeGroup) {
	if a.opts.Rooms == nil {
		return
	}
	auth := a.requireAuth
	msgLimit := echoserver.RateLimit(a.opts.MessageLimiter, messageLimitKey)
	g.POST("/createRoom", a.createRoom, auth)
	a.registerMembership(g, auth)
	g.PUT("/rooms/:roomId/send/:eventType/:txnId", a.sendMessage, auth, msgLimit)
	g.PUT("/rooms/:roomId/state/:eventType", a.putState, auth, msgLimit)
	g.PUT("/rooms/:roomId/state/:eventType/:stateKey", a.putState, auth, msgLimit)
	g.PUT("/rooms/:roomId/state/:eventType/", a.putState, auth, msgLimit) // empty state key
	g.GET("/rooms/:roomId/state/:eventType", a.getStateEvent, auth)
	g.GET("/rooms/:roomId/state/:eventType/", a.getStateEvent, auth)
	g.GET("/rooms/:roomId/state/:eventType/:stateKey", a.getStateEvent, auth)
	g.GET("/rooms/:roomId/state", a.getState, auth)
	g.GET("/rooms/:roomId/event/:eventId", a.getEvent, auth)
	g.GET("/rooms/:roomId/members", a.getMembers, auth)
	g.GET("/rooms/:roomId/joined_members", a.joinedMembers, auth)
	g.GET("/joined_rooms", a.joinedRooms, auth)
	g.PUT("/rooms/:roomId/redact/:eventId/:txnId", a.redact, auth, msgLimit)
	a.registerDirectory(g, auth)
	g.POST("/rooms/:roomId/upgrade", a.upgradeRoom, auth)
	g.POST("/rooms/:roomId/report/:eventId", a.reportEvent, auth)
	g.POST("/rooms/:roomId/report", a.reportRoom, auth)
}

// registerV1Rooms mounts the room routes that only exist under /v1.
func (a *API) registerV1Rooms(g routeGroup) {
	if a.opts.Rooms == nil {
		return
	}
	g.GET("/rooms/:roomId/timestamp_to_event", a.timestampToEvent, a.requireAuth)
	a.registerSpaces(g)
}

// formatter formats events for clients (shared with the sync area through
// package clientevent).
func (a *API) formatter() *clientevent.Formatter {
	return &clientevent.Formatter{Rooms: a.opts.Rooms}
}

func viewer(c echo.Context) clientevent.Viewer {
	s := session(c)
	return clientevent.Viewer{UserID: s.UserID, DeviceID: s.DeviceID}
}

// pathRoomID parses {roomId}: 400 M_INVALID_PARAM if it is not a room ID.
func pathRoomID(c echo.Context) (spec.RoomID, error) {
	raw := c.Param("roomId")
	id, err := spec.ParseRoomID(raw)
	if err != nil {
		return "", spec.InvalidParam("invalid room ID: %v", err)
	}
	return id, nil
}

// pathEventID parses {eventId}.
func pathEventID(c echo.Context) (spec.EventID, error) {
	raw := c.Param("eventId")
	id, err := spec.ParseEventID(raw)
	if err != nil {
		return "", spec.InvalidParam("invalid event ID: %v", err)
	}
	return id, nil
}

// pathRoomEvent parses {roomId} and {eventId}, in that order.
func pathRoomEvent(c echo.Context) (spec.RoomID, spec.EventID, error) {
	roomID, err := pathRoomID(c)
	if err != nil {
		return "", "", err
	}
	eventID, err := pathEventID(c)
	if err != nil {
		return "", "", err
	}
	return roomID, eventID, nil
}

// roomErr maps room service errors that are not Matrix errors yet.
func roomErr(err error) error {
	if errors.Is(err, rooms.ErrNotRunning) {
		return spec.NewError(http.StatusServiceUnavailable, spec.ErrUnknown, "the server is shutting down")
	}
	return err
}

// membership returns the user's current membership event row in the room;
// an empty Membership if none.
func (a *API) membership(ctx context.Context, roomID spec.RoomID, user string) (models.CurrentState, error) {
	row, err := a.opts.Rooms.Store().CurrentStateRow(ctx, string(roomID), "m.room.member", user)
	if errors.Is(err, store.ErrNotFound) {
		return models.CurrentState{}, nil
	}
	return row, err
}

// readAccess decides what state of the room a user may read
// (rooms.yaml GET /state, /members): members read the current state, former
// members the state when they left, anyone the state of a world_readable
// room. at is the event whose state applies, "" for the current state.
// Non-members get 403 whether or not the room exists (no leak).
func (a *API) readAccess(ctx context.Context, roomID spec.RoomID, user string) (at spec.EventID, err error) {
	m, err := a.membership(ctx, roomID, user)
	if err != nil {
		return "", err
	}
	switch m.Membership {
	case "join":
		return "", nil
	case "leave", "ban":
		return spec.EventID(m.EventID), nil
	}
	if a.worldReadable(ctx, roomID) {
		return "", nil
	}
	return "", spec.Forbidden("you are not a member of this room")
}

// requireJoinedOrWorldReadable lets joined members (and anyone, when the
// room is world_readable) read the room's member list and aliases
// (rooms.yaml GET /joined_members, directory.yaml GET /aliases).
func (a *API) requireJoinedOrWorldReadable(ctx context.Context, roomID spec.RoomID, user string) error {
	m, err := a.membership(ctx, roomID, user)
	if err != nil {
		return err
	}
	if m.Membership != "join" && !a.worldReadable(ctx, roomID) {
		return spec.Forbidden("you are not a member of this room")
	}
	return nil
}

func (a *API) worldReadable(ctx context.Context, roomID spec.RoomID) bool {
	ev, err := a.opts.Rooms.StateEvent(ctx, roomID, "m.room.history_visibility", "")
	if err != nil {
		return false
	}
	return contentString(ev.Content(), "history_visibility") == "world_readable"
}

// contentString reads one string field of event content ("" if absent).
func contentString(content []byte, key string) string {
	var m map[string]any
	if json.Unmarshal(content, &m) != nil {
		return ""
	}
	v, _ := m[key].(string)
	return v
}

// readContent reads a request body that is event content: a JSON object in
// the strict form events need (client-server-api "Room Events": integers
// only within the canonical JSON range, no floats).
func readContent(c echo.Context) (map[string]any, error) {
	body, err := echoserver.ReadBody(c)
	if err != nil {
		return nil, err
	}
	if len(body) == 0 {
		return nil, spec.NotJSON("request body must be a JSON object")
	}
	if err := canonicaljson.ValidateNoNUL(body); err != nil {
		return nil, spec.NotJSON("request body is not valid JSON: %v", err)
	}
	tree, err := canonicaljson.Decode(body)
	if err != nil {
		return nil, spec.BadJSON("event content is not valid canonical JSON: %v", err)
	}
	obj, ok := tree.(map[string]any)
	if !ok {
		return nil, spec.BadJSON("event content must be a JSON object")
	}
	return obj, nil
}

// checkEventField enforces the 255-byte limit of event types and state keys
// (client-server-api "Size limits").
func checkEventField(name, v string) error {
	if len(v) > spec.MaxIDLength {
		return spec.TooLarge("%s is longer than %d bytes", name, spec.MaxIDLength)
	}
	return nil
}

// rawJSON is a JSON value written as is.
type rawJSON []byte

func (r rawJSON) MarshalJSON() ([]byte, error) { return r, nil }

func nowMillis() int64 { return time.Now().UnixMilli() }

// GET /rooms/{roomId}/event/{eventId} (rooms.yaml): 404 both for unknown
// events and for events the user may not see (history visibility).
func (a *API) getEvent(c echo.Context) error {
	roomID, eventID, err := pathRoomEvent(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	ev, row, err := a.visibleEvent(ctx, session(c).UserID, roomID, eventID)
	if err != nil {
		return err
	}
	out, err := a.formatter().One(ctx, viewer(c), ev, row)
	if err != nil {
		return err
	}
	return ok(c, out)
}

// visibleEvent loads an event of the room that the user may see (history
// visibility). An event of another room, a rejected one and a hidden one
// are the same 404 as an unknown one, so that none of them leaks.
func (a *API) visibleEvent(ctx context.Context, user string, roomID spec.RoomID, eventID spec.EventID) (*event.Event, models.Event, error) {
	ev, row, err := a.opts.Rooms.Event(ctx, eventID)
	if err != nil {
		return nil, row, err
	}
	if row.RoomID != string(roomID) || row.Rejected {
		return nil, row, spec.NotFound("event not found")
	}
	visible, err := a.opts.Rooms.CanSee(ctx, user, row)
	if err != nil {
		return nil, row, err
	}
	if !visible {
		return nil, row, spec.NotFound("event not found")
	}
	return ev, row, nil
}

// GET /rooms/{roomId}/members (rooms.yaml) with at, membership and
// not_membership.
func (a *API) getMembers(c echo.Context) error {
	roomID, err := pathRoomID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	at, err := a.readAccess(ctx, roomID, session(c).UserID)
	if err != nil {
		return err
	}
	if tok := c.QueryParam("at"); tok != "" && at == "" {
		if at, err = a.eventAtToken(c, roomID, tok); err != nil {
			return err
		}
	}
	var state []*event.Event
	if at != "" {
		state, err = a.opts.Rooms.StateAt(ctx, at)
	} else {
		state, err = a.opts.Rooms.State(ctx, roomID, "m.room.member")
	}
	if err != nil {
		return err
	}
	only, not := c.QueryParam("membership"), c.QueryParam("not_membership")
	chunk := []*event.Event{}
	for _, ev := range state {
		if ev.Type() != "m.room.member" {
			continue
		}
		m := contentString(ev.Content(), "membership")
		if (only != "" && m != only) || (not != "" && m == not) {
			continue
		}
		chunk = append(chunk, ev)
	}
	return ok(c, map[string]any{"chunk": formatAll(chunk)})
}

// eventAtToken finds the room's last event at a sync token's event stream
// position (/members?at).
func (a *API) eventAtToken(c echo.Context, roomID spec.RoomID, tok string) (spec.EventID, error) {
	t, err := syncapi.ParseToken(tok)
	if err != nil {
		return "", spec.InvalidParam("at: %v", err)
	}
	rows, err := a.opts.Rooms.Store().RoomStreamLatest(c.Request().Context(), string(roomID), t[syncapi.StreamEvents], 1)
	if err != nil {
		return "", err
	}
	if len(rows) == 0 {
		return "", spec.NotFound("the room has no events at that point")
	}
	return spec.EventID(rows[0].EventID), nil
}

type joinedMember struct {
	DisplayName string `json:"display_name,omitempty"`
	AvatarURL   string `json:"avatar_url,omitempty"`
}

// GET /rooms/{roomId}/joined_members (rooms.yaml): joined members only, for
// members of the room (and anyone in a world_readable room).
func (a *API) joinedMembers(c echo.Context) error {
	roomID, err := pathRoomID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if err := a.requireJoinedOrWorldReadable(ctx, roomID, session(c).UserID); err != nil {
		return err
	}
	state, err := a.opts.Rooms.State(ctx, roomID, "m.room.member")
	if err != nil {
		return err
	}
	joined := map[string]joinedMember{}
	for _, ev := range state {
		if contentString(ev.Content(), "membership") == "join" && ev.StateKey() != nil {
			joined[*ev.StateKey()] = joinedMember{DisplayName: contentString(ev.Content(), "displayname"),
				AvatarURL: contentString(ev.Content(), "avatar_url")}
		}
	}
	return ok(c, map[string]any{"joined": joined})
}
