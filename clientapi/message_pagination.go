package clientapi

import (
	"context"
	"strconv"

	"github.com/labstack/echo/v4"

	clientsync "github.com/kabarchat/kabar/clientapi/sync"
	"github.com/kabarchat/kabar/models/spec"
)

// registerHistory mounts /messages and /context (message_pagination.yaml,
// event_context.yaml).
func (a *API) registerHistory(g routeGroup) {
	if a.opts.Rooms == nil {
		return
	}
	g.GET("/rooms/:roomId/messages", a.messages, a.requireAuth)
	g.GET("/rooms/:roomId/context/:eventId", a.eventContext, a.requireAuth)
}

// messages serves GET /rooms/{roomId}/messages.
func (a *API) messages(c echo.Context) error {
	roomID, err := a.historyRoom(c)
	if err != nil {
		return err
	}
	req := clientsync.MessagesRequest{UserID: session(c).UserID, DeviceID: session(c).DeviceID, RoomID: string(roomID),
		From: c.QueryParam("from"), To: c.QueryParam("to")}
	switch c.QueryParam("dir") {
	case "b":
		req.Backwards = true
	case "f":
	case "":
		return spec.MissingParam("dir is required")
	default:
		return spec.InvalidParam("dir must be b or f")
	}
	if req.Limit, err = limitParam(c, 10); err != nil {
		return err
	}
	if req.Filter, err = roomEventFilterParam(c); err != nil {
		return err
	}
	resp, err := a.opts.Sync.Messages(c.Request().Context(), req)
	if err != nil {
		return err
	}
	return ok(c, resp)
}

// eventContext serves GET /rooms/{roomId}/context/{eventId}.
func (a *API) eventContext(c echo.Context) error {
	roomID, eventID, err := a.historyEvent(c)
	if err != nil {
		return err
	}
	req := clientsync.ContextRequest{UserID: session(c).UserID, DeviceID: session(c).DeviceID,
		RoomID: string(roomID), EventID: string(eventID)}
	if req.Limit, err = limitParam(c, 10); err != nil {
		return err
	}
	if req.Filter, err = roomEventFilterParam(c); err != nil {
		return err
	}
	resp, err := a.opts.Sync.Context(c.Request().Context(), req)
	if err != nil {
		return err
	}
	return ok(c, resp)
}

// historyRoom parses {roomId} and checks the user ever had a membership in
// the room or that it is world_readable; which events they see is then
// decided per event by history visibility.
func (a *API) historyRoom(c echo.Context) (spec.RoomID, error) {
	roomID, err := pathRoomID(c)
	if err != nil {
		return "", err
	}
	if err := a.mayReadHistory(c.Request().Context(), roomID, session(c).UserID); err != nil {
		return "", err
	}
	return roomID, nil
}

// historyEvent is historyRoom for the routes about one event of the room
// (event_context.yaml, relations.yaml) and parses {eventId} after it.
func (a *API) historyEvent(c echo.Context) (spec.RoomID, spec.EventID, error) {
	roomID, err := a.historyRoom(c)
	if err != nil {
		return "", "", err
	}
	eventID, err := pathEventID(c)
	if err != nil {
		return "", "", err
	}
	return roomID, eventID, nil
}

func (a *API) mayReadHistory(ctx context.Context, roomID spec.RoomID, user string) error {
	m, err := a.membership(ctx, roomID, user)
	if err != nil {
		return err
	}
	if m.Membership == "" && !a.worldReadable(ctx, roomID) {
		return spec.Forbidden("you are not a member of this room")
	}
	return nil
}

// limitParam reads the limit query parameter: a non-negative integer.
func limitParam(c echo.Context, def int) (int, error) {
	s := c.QueryParam("limit")
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, spec.InvalidParam("limit must be a non-negative integer")
	}
	return n, nil
}

// roomEventFilterParam reads the filter query parameter: a RoomEventFilter
// as JSON (400 M_BAD_JSON if malformed).
func roomEventFilterParam(c echo.Context) (*clientsync.RoomEventFilter, error) {
	s := c.QueryParam("filter")
	if s == "" {
		return nil, nil
	}
	f, err := clientsync.ParseRoomEventFilter([]byte(s))
	if err != nil {
		return nil, spec.BadJSON("%v", err)
	}
	return f, nil
}
