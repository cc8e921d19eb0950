package clientapi

import (
	"encoding/json"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/models/spec"
)

type sendToDeviceRequest struct {
	Messages *map[string]map[string]json.RawMessage `json:"messages"`
}

// PUT /sendToDevice/{eventType}/{txnId} (to_device.yaml): idempotent per
// device and transaction ID.
func (a *API) sendToDevice(c echo.Context) error {
	eventType := c.Param("eventType")
	txnID := c.Param("txnId")
	if eventType == "" || txnID == "" {
		return spec.InvalidParam("eventType and txnId must not be empty")
	}
	var req sendToDeviceRequest
	if err := echoserver.BindJSON(c, &req); err != nil {
		return err
	}
	if req.Messages == nil {
		return spec.BadJSON("messages is required")
	}
	sess := session(c)
	if err := a.opts.E2EE.SendToDevice(c.Request().Context(), sess.UserID, sess.DeviceID, eventType, txnID, *req.Messages); err != nil {
		return err
	}
	return ok(c, struct{}{})
}
