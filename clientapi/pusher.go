package clientapi

import (
	"encoding/json"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/clientapi/clientevent"
	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/notifications"
)

// getPushers serves GET /pushers (pusher.yaml).
func (a *API) getPushers(c echo.Context) error {
	list, err := a.opts.Push.Pushers(c.Request().Context(), session(c).UserID)
	if err != nil {
		return err
	}
	return ok(c, map[string]any{"pushers": list})
}

// setPusher serves POST /pushers/set: create, update or (kind null) delete.
func (a *API) setPusher(c echo.Context) error {
	var in notifications.Pusher
	if err := echoserver.BindJSON(c, &in); err != nil {
		return err
	}
	sess := session(c)
	if err := a.opts.Push.SetPusher(c.Request().Context(), sess.UserID, sess.DeviceID, in); err != nil {
		return err
	}
	return ok(c, struct{}{})
}

// notificationItem is one entry of GET /notifications.
type notificationItem struct {
	Actions    json.RawMessage   `json:"actions"`
	Event      clientevent.Event `json:"event"`
	ProfileTag string            `json:"profile_tag,omitempty"`
	Read       bool              `json:"read"`
	RoomID     string            `json:"room_id"`
	TS         int64             `json:"ts"`
}

// getNotifications serves GET /notifications (notifications.yaml): from is
// the previous page's next_token, limit at most 100, only=highlight.
func (a *API) getNotifications(c echo.Context) error {
	var before int64
	if f := c.QueryParam("from"); f != "" {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil || v <= 0 {
			return spec.InvalidParam("invalid from token")
		}
		before = v
	}
	limit := 20
	if l := c.QueryParam("limit"); l != "" {
		v, err := strconv.Atoi(l)
		if err != nil || v < 1 {
			return spec.InvalidParam("limit must be a positive integer")
		}
		limit = min(v, 100)
	}
	only := c.QueryParam("only")
	if only != "" && only != "highlight" {
		return spec.InvalidParam("only must be highlight")
	}
	list, err := a.opts.Push.List(c.Request().Context(), session(c).UserID, before, limit, only == "highlight")
	if err != nil {
		return err
	}
	rows := make([]models.Event, len(list))
	for i, l := range list {
		rows[i] = l.Event
	}
	events, err := a.formatter().Rows(c.Request().Context(), viewer(c), rows)
	if err != nil {
		return err
	}
	items := make([]notificationItem, len(list))
	for i, l := range list {
		items[i] = notificationItem{Actions: json.RawMessage(l.Note.Actions), Event: events[i], Read: l.Read, RoomID: l.Note.RoomID, TS: l.Note.TS}
	}
	body := map[string]any{"notifications": items}
	if len(list) == limit {
		body["next_token"] = strconv.FormatInt(list[len(list)-1].Note.ID, 10)
	}
	return ok(c, body)
}
