package clientapi

import (
	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/clientapi/clientevent"
	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/models/spec"
)

// stateParams reads {eventType} and the optional {stateKey} ("" if absent).
func stateParams(c echo.Context) (typ, key string, err error) {
	typ, key = c.Param("eventType"), c.Param("stateKey")
	if err = checkEventField("event type", typ); err != nil {
		return "", "", err
	}
	return typ, key, checkEventField("state key", key)
}

// PUT /rooms/{roomId}/state/{eventType}/{stateKey} (room_state.yaml).
func (a *API) putState(c echo.Context) error {
	roomID, err := pathRoomID(c)
	if err != nil {
		return err
	}
	typ, key, err := stateParams(c)
	if err != nil {
		return err
	}
	content, err := readContent(c)
	if err != nil {
		return err
	}
	ts, err := massagedTS(c)
	if err != nil {
		return err
	}
	sent, err := a.opts.Rooms.Send(c.Request().Context(), roomID,
		rooms.Proto{Type: typ, StateKey: &key, Sender: session(c).UserID, Content: content, TS: ts}, rooms.Txn{})
	if err != nil {
		return roomErr(err)
	}
	return ok(c, map[string]string{"event_id": sent.EventID})
}

// stateFor returns the state a user may read (current, or at the event of
// readAccess).
func (a *API) stateFor(c echo.Context, roomID spec.RoomID) ([]*event.Event, error) {
	ctx := c.Request().Context()
	at, err := a.readAccess(ctx, roomID, session(c).UserID)
	if err != nil {
		return nil, err
	}
	if at != "" {
		return a.opts.Rooms.StateAt(ctx, at)
	}
	return a.opts.Rooms.State(ctx, roomID, "")
}

// GET /rooms/{roomId}/state/{eventType}/{stateKey} (rooms.yaml): the
// content only (or the whole event with ?format=event).
func (a *API) getStateEvent(c echo.Context) error {
	roomID, err := pathRoomID(c)
	if err != nil {
		return err
	}
	typ, key, err := stateParams(c)
	if err != nil {
		return err
	}
	state, err := a.stateFor(c, roomID)
	if err != nil {
		return err
	}
	for _, ev := range state {
		if ev.Type() == typ && ev.StateKeyEquals(key) {
			if c.QueryParam("format") == "event" {
				return ok(c, clientevent.Format(ev, nowMillis()))
			}
			return ok(c, rawJSON(ev.Content()))
		}
	}
	return spec.NotFound("the room has no %s state with key %q", typ, key)
}

// GET /rooms/{roomId}/state (rooms.yaml).
func (a *API) getState(c echo.Context) error {
	roomID, err := pathRoomID(c)
	if err != nil {
		return err
	}
	state, err := a.stateFor(c, roomID)
	if err != nil {
		return err
	}
	return ok(c, formatAll(state))
}

func formatAll(evs []*event.Event) []clientevent.Event {
	now := nowMillis()
	out := make([]clientevent.Event, len(evs))
	for i, ev := range evs {
		out[i] = clientevent.Format(ev, now)
	}
	return out
}
