package receiver

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/xmatrix"
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
// chain.
func (r *Receiver) eventAuth(c echo.Context) error {
	ctx := c.Request().Context()
	roomID := c.Param("roomId")
	if err := r.serverInRoom(ctx, roomID, xmatrix.Origin(c)); err != nil {
		return err
	}
	ev, row, err := r.opts.Rooms.Event(ctx, spec.EventID(c.Param("eventId")))
	if err != nil || row.RoomID != roomID || row.Rejected {
		return spec.NotFound("unknown event %s in %s", c.Param("eventId"), roomID)
	}
	chain, err := r.opts.Rooms.AuthChain(ctx, ev.Version(), []*event.Event{ev})
	if err != nil {
		return roomErr(err)
	}
	return c.JSON(http.StatusOK, map[string][]json.RawMessage{"auth_chain": jsons(chain)})
}

// serverInRoom is the access check of the read endpoints: the server ACL,
// then the requesting server must have a joined member in the room. NOTSPEC-light: the spec
// asks for history visibility at each event; this checks membership at the
// current state, which is stricter for servers that left.
func (r *Receiver) serverInRoom(ctx context.Context, roomID string, origin spec.ServerName) error {
	if err := r.checkACL(ctx, roomID, origin); err != nil {
		return err
	}
	// One indexed existence query, not the whole member list: this runs
	// before every read, and rooms can be large.
	joined, err := r.opts.Store.HasJoinedOn(ctx, roomID, string(origin))
	if err != nil {
		return err
	}
	if !joined {
		return spec.Forbidden("%s has no member in %s", origin, roomID)
	}
	return nil
}

func (r *Receiver) txnReply(c echo.Context, pdus []json.RawMessage) error {
	return c.JSON(http.StatusOK, map[string]any{"origin": r.opts.ServerName,
		"origin_server_ts": time.Now().UnixMilli(), "pdus": pdus})
}

// getEvent is GET /v1/event/{eventId}: a transaction with one PDU.
func (r *Receiver) getEvent(c echo.Context) error {
	ctx := c.Request().Context()
	ev, row, err := r.opts.Rooms.Event(ctx, spec.EventID(c.Param("eventId")))
	if err != nil {
		return roomErr(err)
	}
	if row.Rejected { // rejected events are never served
		return spec.NotFound("unknown event")
	}
	if err := r.serverInRoom(ctx, row.RoomID, xmatrix.Origin(c)); err != nil {
		return spec.NotFound("unknown event")
	}
	return r.txnReply(c, []json.RawMessage{ev.JSON()})
}

// getState is GET /v1/state and /v1/state_ids ?event_id=: the state before
// the event and its auth chain.
func (r *Receiver) getState(idsOnly bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		roomID := c.Param("roomId")
		eventID := c.QueryParam("event_id")
		if eventID == "" {
			return spec.MissingParam("event_id is required")
		}
		if err := r.serverInRoom(ctx, roomID, xmatrix.Origin(c)); err != nil {
			return err
		}
		ev, row, err := r.opts.Rooms.Event(ctx, spec.EventID(eventID))
		if err != nil || row.RoomID != roomID {
			return spec.NotFound("unknown event %s in %s", eventID, roomID)
		}
		state, err := r.opts.Rooms.StateBefore(ctx, eventID)
		if err != nil {
			return roomErr(err)
		}
		chain, err := r.opts.Rooms.AuthChain(ctx, ev.Version(), append(state, ev))
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
	Limit          int      `json:"limit"`
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
	if err := r.serverInRoom(ctx, roomID, xmatrix.Origin(c)); err != nil {
		return err
	}
	if req.Limit <= 0 {
		req.Limit = 10
	}
	stop := map[string]bool{}
	for _, id := range req.EarliestEvents {
		stop[id] = true
	}
	var start []string
	for _, id := range req.LatestEvents {
		ev, _, err := r.opts.Rooms.Event(ctx, spec.EventID(id))
		if err == nil && ev.RoomID() == roomID {
			start = append(start, ev.PrevEventIDs()...)
		}
	}
	evs, err := r.walkBack(ctx, roomID, start, stop, min(req.Limit, maxMissingEvents), req.MinDepth)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string][]json.RawMessage{"events": jsons(evs)})
}

// backfill is GET /v1/backfill/{roomId}?v=...&limit=: the given events and
// their ancestors, newest first.
func (r *Receiver) backfill(c echo.Context) error {
	ctx := c.Request().Context()
	roomID := c.Param("roomId")
	if err := r.serverInRoom(ctx, roomID, xmatrix.Origin(c)); err != nil {
		return err
	}
	limit, err := strconv.Atoi(c.QueryParam("limit"))
	if err != nil || limit <= 0 {
		return spec.InvalidParam("limit must be a positive integer")
	}
	evs, err := r.walkBack(ctx, roomID, c.QueryParams()["v"], nil, min(limit, maxBackfill), 0)
	if err != nil {
		return err
	}
	return r.txnReply(c, jsons(evs))
}

// walkBack does a breadth-first walk over prev_events in one room.
func (r *Receiver) walkBack(ctx context.Context, roomID string, start []string, stop map[string]bool, limit int, minDepth int64) ([]*event.Event, error) {
	seen := map[string]bool{}
	var out []*event.Event
	queue := start
	for len(queue) > 0 && len(out) < limit {
		id := queue[0]
		queue = queue[1:]
		if seen[id] || stop[id] {
			continue
		}
		seen[id] = true
		ev, row, err := r.opts.Rooms.Event(ctx, spec.EventID(id))
		if err != nil || row.Rejected || ev.RoomID() != roomID || ev.Depth() < minDepth {
			continue
		}
		out = append(out, ev)
		queue = append(queue, ev.PrevEventIDs()...)
	}
	return out, nil
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
