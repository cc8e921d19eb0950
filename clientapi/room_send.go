package clientapi

import (
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/federation/rooms"
)

// PUT /rooms/{roomId}/send/{eventType}/{txnId} (room_send.yaml). A retry
// with the same transaction ID from the same device on the same path returns
// the first event (client-server-api "Transaction identifiers").
func (a *API) sendMessage(c echo.Context) error {
	roomID, err := pathRoomID(c)
	if err != nil {
		return err
	}
	typ := c.Param("eventType")
	txnID := c.Param("txnId")
	if err := checkEventField("event type", typ); err != nil {
		return err
	}
	if err := checkEventField("transaction ID", txnID); err != nil {
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
	sess := session(c)
	p := rooms.Proto{Type: typ, Sender: sess.UserID, Content: content, TS: ts}
	if typ == "m.room.redaction" {
		// A redaction needs its target; clients use /redact. Take redacts
		// from content so the auth and redaction checks apply.
		p.Redacts, _ = content["redacts"].(string)
	}
	txn := rooms.Txn{DeviceID: sess.DeviceID, Scope: txnScope(c), ID: txnID}
	sent, err := a.opts.Rooms.Send(c.Request().Context(), roomID, p, txn)
	if err != nil {
		return roomErr(err)
	}
	if a.opts.Presence != nil {
		a.opts.Presence.Active(c.Request().Context(), sess.UserID) // presence.md: activity
	}
	return ok(c, map[string]string{"event_id": sent.EventID})
}

// txnScope is the endpoint a transaction ID belongs to: the request path
// from "/rooms/" on (so /v3 and /r0 retries match), without the trailing
// transaction ID segment.
func txnScope(c echo.Context) string {
	path := c.Request().URL.EscapedPath()
	if i := strings.Index(path, "/rooms/"); i >= 0 {
		path = path[i:]
	}
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		path = path[:i]
	}
	return path
}
