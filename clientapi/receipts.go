package clientapi

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// registerReceipts mounts receipts, read markers, typing and tags
// (receipts.yaml, read_markers.yaml, typing.yaml, tags.yaml).
func (a *API) registerReceipts(g routeGroup) {
	if a.opts.Rooms == nil {
		return
	}
	auth := a.requireAuth
	g.POST("/rooms/:roomId/receipt/:receiptType/:eventId", a.postReceipt, auth)
	g.POST("/rooms/:roomId/read_markers", a.readMarkers, auth)
	g.PUT("/rooms/:roomId/typing/:userId", a.putTyping, auth)
	g.GET("/user/:userId/rooms/:roomId/tags", a.getTags, auth)
	g.PUT("/user/:userId/rooms/:roomId/tags/:tag", a.putTag, auth)
	g.DELETE("/user/:userId/rooms/:roomId/tags/:tag", a.deleteTag, auth)
}

// joinedRoom parses {roomId} and requires the caller to be joined.
func (a *API) joinedRoom(c echo.Context) (spec.RoomID, error) {
	roomID, err := pathRoomID(c)
	if err != nil {
		return "", err
	}
	m, err := a.membership(c.Request().Context(), roomID, session(c).UserID)
	if err != nil {
		return "", err
	}
	if m.Membership != "join" {
		return "", spec.Forbidden("you are not joined to this room")
	}
	return roomID, nil
}

// postReceipt serves POST /rooms/{roomId}/receipt/{receiptType}/{eventId}.
func (a *API) postReceipt(c echo.Context) error {
	roomID, err := a.joinedRoom(c)
	if err != nil {
		return err
	}
	typ := c.Param("receiptType")
	eventID, err := pathEventID(c)
	if err != nil {
		return err
	}
	var body struct {
		ThreadID string `json:"thread_id"`
	}
	if raw, err := echoserver.ReadBody(c); err != nil {
		return err
	} else if len(raw) > 0 {
		if err := echoserver.DecodeJSON(raw, &body); err != nil {
			return err
		}
	}
	if typ == "m.fully_read" {
		if body.ThreadID != "" {
			return spec.BadJSON("m.fully_read cannot be threaded")
		}
		return a.setMarkers(c, roomID, map[string]string{typ: string(eventID)})
	}
	if err := a.receipt(c.Request().Context(), roomID, session(c).UserID, typ, string(eventID), body.ThreadID); err != nil {
		return err
	}
	return ok(c, struct{}{})
}

// readMarkers serves POST /rooms/{roomId}/read_markers.
func (a *API) readMarkers(c echo.Context) error {
	roomID, err := a.joinedRoom(c)
	if err != nil {
		return err
	}
	var body map[string]string
	if err := echoserver.BindJSON(c, &body); err != nil {
		return err
	}
	return a.setMarkers(c, roomID, body)
}

func (a *API) setMarkers(c echo.Context, roomID spec.RoomID, markers map[string]string) error {
	ctx, user := c.Request().Context(), session(c).UserID
	for typ, id := range markers {
		if _, err := spec.ParseEventID(id); err != nil {
			return spec.InvalidParam("invalid event ID for %s", typ)
		}
		if err := a.eventInRoom(ctx, roomID, id); err != nil {
			return err
		}
		switch typ {
		case "m.fully_read":
			content := fmt.Sprintf(`{"event_id":%q}`, id)
			if err := a.opts.Sync.PutAccountData(ctx, user, string(roomID), typ, content); err != nil {
				return err
			}
		case "m.read", "m.read.private":
			if err := a.receipt(ctx, roomID, user, typ, id, ""); err != nil {
				return err
			}
		default:
			return spec.InvalidParam("unknown read marker %s", typ)
		}
	}
	return ok(c, struct{}{})
}

// receipt validates and stores one receipt (receipts.yaml: thread_id
// "main" or a thread root; 400 for unknown types).
func (a *API) receipt(ctx context.Context, roomID spec.RoomID, user, typ, eventID, thread string) error {
	if typ != "m.read" && typ != "m.read.private" {
		return spec.InvalidParam("unknown receipt type %s", typ)
	}
	if err := a.eventInRoom(ctx, roomID, eventID); err != nil {
		return err
	}
	if thread != "" && thread != "main" {
		if _, err := spec.ParseEventID(thread); err != nil {
			return spec.InvalidParam("thread_id must be \"main\" or an event ID")
		}
	}
	if err := a.opts.Sync.PutReceipt(ctx, models.Receipt{RoomID: string(roomID), Type: typ, UserID: user, ThreadID: thread, EventID: eventID}); err != nil {
		return err
	}
	if a.opts.EphemeralOut != nil {
		a.opts.EphemeralOut.Receipt(ctx, string(roomID), user, typ, eventID, thread, time.Now().UnixMilli())
	}
	return nil
}

func (a *API) eventInRoom(ctx context.Context, roomID spec.RoomID, eventID string) error {
	row, err := a.opts.Rooms.Store().EventByID(ctx, eventID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (row.RoomID != string(roomID) || row.Rejected)) {
		return spec.NotFound("event %s not found in this room", eventID)
	}
	return err
}
