package clientapi

import (
	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/models/spec"
)

// PUT /rooms/{roomId}/redact/{eventId}/{txnId} (redaction.yaml). The room
// service checks that the target is in the room and that redacting another
// user's event needs the redact power level.
func (a *API) redact(c echo.Context) error {
	roomID, eventID, err := pathRoomEvent(c)
	if err != nil {
		return err
	}
	txnID := c.Param("txnId")
	if err := checkEventField("transaction ID", txnID); err != nil {
		return err
	}
	var body reasonBody
	if err := echoserver.BindJSON(c, &body); err != nil {
		return err
	}
	sess := session(c)
	txn := rooms.Txn{DeviceID: sess.DeviceID, Scope: txnScope(c), ID: txnID}
	sent, err := a.opts.Rooms.Redact(c.Request().Context(), roomID, spec.UserID(sess.UserID), eventID, body.Reason, txn)
	if err != nil {
		return roomErr(err)
	}
	return ok(c, map[string]string{"event_id": sent.EventID})
}
