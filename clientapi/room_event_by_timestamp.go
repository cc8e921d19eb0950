package clientapi

import (
	"errors"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// GET /v1/rooms/{roomId}/timestamp_to_event (room_event_by_timestamp.yaml):
// the closest event the caller may see in the given direction.
func (a *API) timestampToEvent(c echo.Context) error {
	roomID, err := pathRoomID(c)
	if err != nil {
		return err
	}
	ts, err := strconv.ParseInt(c.QueryParam("ts"), 10, 64)
	if err != nil || ts < 0 {
		return spec.InvalidParam("ts must be a timestamp in milliseconds")
	}
	dir := c.QueryParam("dir")
	if dir != "f" && dir != "b" {
		return spec.InvalidParam("dir must be f or b")
	}
	ctx := c.Request().Context()
	if _, err := a.readAccess(ctx, roomID, session(c).UserID); err != nil {
		return err
	}
	row, err := a.opts.Rooms.Store().EventNearTimestamp(ctx, string(roomID), ts, dir == "b")
	if errors.Is(err, store.ErrNotFound) {
		return spec.NotFound("no event found %s that time", map[bool]string{true: "before", false: "after"}[dir == "b"])
	}
	if err != nil {
		return err
	}
	if visible, err := a.opts.Rooms.CanSee(ctx, session(c).UserID, row); err != nil {
		return err
	} else if !visible {
		return spec.NotFound("no visible event found near that time")
	}
	return ok(c, map[string]any{"event_id": row.EventID, "origin_server_ts": row.OriginServerTS})
}
