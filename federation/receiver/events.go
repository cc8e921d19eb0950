package receiver

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/federation/xmatrix"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
)

// Bounds of the read endpoints: a peer cannot make us walk a whole room.
const (
	maxMissingEvents = 100
	maxBackfill      = 100
)

// registerEvents mounts the event retrieval endpoints (server-server-api
// "Retrieving events", "Backfilling and retrieving missing events").
func (r *Receiver) registerEvents(g routes) {
	g.GET("/v1/event/:eventId", r.getEvent)
	g.GET("/v1/state/:roomId", r.getState(false))
	g.GET("/v1/state_ids/:roomId", r.getState(true))
	g.POST("/v1/get_missing_events/:roomId", r.getMissingEvents)
	g.GET("/v1/backfill/:roomId", r.backfill)
	g.GET("/v1/event_auth/:roomId/:eventId", r.eventAuth)
}

// eventAuth is GET /v1/event_auth/{roomId}/{eventId} (server-server-api
// "Retrieving event authorization information"): the event's full auth
// chain, to a server that may see the event.
func (r *Receiver) eventAuth(c echo.Context) error {
	ctx := c.Request().Context()
	ev, _, err := r.visibleEvent(c, c.Param("roomId"), c.Param("eventId"))
	if err != nil {
		return err
	}
	chain, err := r.opts.Rooms.AuthChain(ctx, ev.Version(), []*event.Event{ev})
	if err != nil {
		return roomErr(err)
	}
	return c.JSON(http.StatusOK, map[string][]json.RawMessage{"auth_chain": jsons(chain)})
}

// serverView is the access check of the read endpoints: a valid room ID,
// the room's server ACL, then a per-event history visibility view of the
// requesting server (rooms.ServerView: "a server may see an event if any of
// its users could"). A server that left keeps the history it was allowed to
// see; one never in a non-world-readable room sees nothing.
func (r *Receiver) serverView(c echo.Context, roomID string) (*rooms.ServerView, error) {
	ctx := c.Request().Context()
	rid, err := spec.ParseRoomID(roomID)
	if err != nil {
		return nil, spec.InvalidParam("invalid room ID")
	}
	origin := xmatrix.Origin(c)
	if err := r.checkACL(ctx, roomID, origin); err != nil {
		return nil, err
	}
	view, err := r.opts.Rooms.ServerView(ctx, rid, origin)
	if err != nil {
		return nil, roomErr(err)
	}
	return view, nil
}

// walkView is serverView for the walking endpoints, which also refuse a
// server that never had a member in the room (rooms.ServerView.Stranger)
// with 403 M_FORBIDDEN.
func (r *Receiver) walkView(c echo.Context, roomID string) (*rooms.ServerView, error) {
	view, err := r.serverView(c, roomID)
	if err != nil {
		return nil, err
	}
	stranger, err := view.Stranger(c.Request().Context())
	if err != nil {
		return nil, roomErr(err)
	}
	if stranger {
		return nil, spec.Forbidden("%s has never been in room %s", xmatrix.Origin(c), roomID)
	}
	return view, nil
}

// visibleEvent loads a served (not rejected) event and checks that the
// requesting server may see it: 404 M_NOT_FOUND if unknown or of another
// room than roomID (when given), 403 M_FORBIDDEN if hidden from it
// (server-server-api /state_ids: "The requesting host is not in the
// room"). The event is read once.
func (r *Receiver) visibleEvent(c echo.Context, roomID, eventID string) (*event.Event, models.Event, error) {
	if _, err := spec.ParseRoomID(roomID); roomID != "" && err != nil {
		return nil, models.Event{}, spec.InvalidParam("invalid room ID")
	}
	ctx := c.Request().Context()
	ev, row, err := r.opts.Rooms.Event(ctx, spec.EventID(eventID))
	var me *spec.Error
	switch {
	case errors.As(err, &me):
		return nil, row, spec.NotFound("unknown event %s", eventID)
	case err != nil:
		return nil, row, roomErr(err)
	case row.Rejected || roomID != "" && row.RoomID != roomID: // rejected events are never served
		return nil, row, spec.NotFound("unknown event %s in %s", eventID, roomID)
	}
	view, err := r.serverView(c, row.RoomID)
	if err != nil {
		return nil, row, err
	}
	ok, err := view.CanSee(ctx, row)
	if err != nil {
		return nil, row, roomErr(err)
	}
	if !ok {
		return nil, row, spec.Forbidden("%s may not see %s", xmatrix.Origin(c), eventID)
	}
	return ev, row, nil
}

func (r *Receiver) txnReply(c echo.Context, pdus []json.RawMessage) error {
	return c.JSON(http.StatusOK, map[string]any{"origin": r.opts.ServerName,
		"origin_server_ts": time.Now().UnixMilli(), "pdus": pdus})
}

// getEvent is GET /v1/event/{eventId}: a transaction with one PDU, if the
// requesting server may see it (403 M_FORBIDDEN otherwise).
func (r *Receiver) getEvent(c echo.Context) error {
	ev, _, err := r.visibleEvent(c, "", c.Param("eventId"))
	if err != nil {
		return err
	}
	return r.txnReply(c, []json.RawMessage{ev.JSON()})
}

// getState is GET /v1/state and /v1/state_ids ?event_id=: the state before
// the event and the auth chain of that state: "the full set of
// authorisation events that make up the state of the room, and their
// authorisation events, recursively" (server-server-api "Retrieving
// events"), so the event's own auth events count only through the state.
func (r *Receiver) getState(idsOnly bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		eventID := c.QueryParam("event_id")
		if eventID == "" {
			return spec.MissingParam("event_id is required")
		}
		ev, row, err := r.visibleEvent(c, c.Param("roomId"), eventID)
		if err != nil {
			return err
		}
		if row.StreamPos == 0 { // an outlier: stored without the state at it
			return spec.NotFound("no state known at %s", eventID)
		}
		state, err := r.opts.Rooms.StateBeforeRow(ctx, ev.Version(), row)
		if err != nil {
			return roomErr(err)
		}
		chain, err := r.opts.Rooms.AuthChain(ctx, ev.Version(), state)
		if err != nil {
			return roomErr(err)
		}
		if idsOnly {
			return c.JSON(http.StatusOK, map[string][]string{"pdu_ids": ids(state), "auth_chain_ids": ids(chain)})
		}
		return c.JSON(http.StatusOK, map[string][]json.RawMessage{"pdus": jsons(state), "auth_chain": jsons(chain)})
	}
}

// missingRequest is the body of POST /get_missing_events.
type missingRequest struct {
	EarliestEvents []string `json:"earliest_events"`
	LatestEvents   []string `json:"latest_events"`
	Limit          *int     `json:"limit"`
	MinDepth       int64    `json:"min_depth"`
}

// getMissingEvents walks prev_events back from latest_events, stopping at
// earliest_events, min_depth and limit (default 10).
func (r *Receiver) getMissingEvents(c echo.Context) error {
	ctx := c.Request().Context()
	roomID := c.Param("roomId")
	var req missingRequest
	if err := echoserver.BindJSON(c, &req); err != nil {
		return err
	}
	limit := 10 // the spec's default
	switch {
	case req.Limit != nil && *req.Limit <= 0:
		return spec.InvalidParam("limit must be a positive integer")
	case req.Limit != nil:
		limit = min(*req.Limit, maxMissingEvents)
	}
	if len(req.LatestEvents) == 0 {
		return spec.MissingParam("latest_events is required")
	}
	view, err := r.walkView(c, roomID)
	if err != nil {
		return err
	}
	stop := map[string]bool{}
	for _, id := range req.EarliestEvents {
		stop[id] = true
	}
	latest, err := r.roomEvents(ctx, roomID, req.LatestEvents, math.MinInt64)
	if err != nil {
		return err
	}
	var start []string
	for _, w := range latest {
		start = append(start, w.ev.PrevEventIDs()...)
	}
	evs, err := r.walkBack(ctx, roomID, start, stop, limit, req.MinDepth)
	if err != nil {
		return err
	}
	out, err := servedTo(ctx, view, evs)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string][]json.RawMessage{"events": out})
}

// backfill is GET /v1/backfill/{roomId}?v=...&limit=: the given events and
// their ancestors, newest first.
func (r *Receiver) backfill(c echo.Context) error {
	ctx := c.Request().Context()
	roomID := c.Param("roomId")
	limit, err := strconv.Atoi(c.QueryParam("limit"))
	if err != nil || limit <= 0 {
		return spec.InvalidParam("limit must be a positive integer")
	}
	from := c.QueryParams()["v"]
	if len(from) == 0 {
		return spec.MissingParam("v is required")
	}
	view, err := r.walkView(c, roomID)
	if err != nil {
		return err
	}
	evs, err := r.walkBack(ctx, roomID, from, nil, min(limit, maxBackfill), math.MinInt64)
	if err != nil {
		return err
	}
	out, err := servedTo(ctx, view, evs)
	if err != nil {
		return err
	}
	return r.txnReply(c, out)
}
func ids(evs []*event.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.EventID()
	}
	return out
}

func jsons(evs []*event.Event) []json.RawMessage {
	out := make([]json.RawMessage, len(evs))
	for i, e := range evs {
		out[i] = e.JSON()
	}
	return out
}
