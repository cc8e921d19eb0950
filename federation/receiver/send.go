package receiver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/membership"
	"github.com/kabarchat/kabar/federation/xmatrix"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// Transaction limits (server-server-api "Transactions").
const (
	maxTxnPDUs = 50
	maxTxnEDUs = 100
)

// transaction is the body of PUT /send/{txnId}.
type transaction struct {
	Origin         string            `json:"origin"`
	OriginServerTS int64             `json:"origin_server_ts"`
	PDUs           []json.RawMessage `json:"pdus"`
	EDUs           []json.RawMessage `json:"edus"`
}

// pduResult is one entry of the response's pdus map.
type pduResult struct {
	Error string `json:"error,omitempty"`
}

// send is PUT /v1/send/{txnId}. A transaction ID seen before from the same
// origin gets the stored answer instead of being processed again.
func (r *Receiver) send(c echo.Context) error {
	origin := xmatrix.Origin(c)
	txnID := c.Param("txnId")
	ctx := c.Request().Context()
	if prev, err := r.opts.Store.InboundTxn(ctx, string(origin), txnID); err == nil {
		return c.JSONBlob(http.StatusOK, []byte(prev.Response))
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	var txn transaction
	if err := echoserver.BindJSON(c, &txn); err != nil {
		return err
	}
	if txn.Origin != string(origin) {
		return spec.Forbidden("transaction origin %q is not the authenticated server", txn.Origin)
	}
	if len(txn.PDUs) > maxTxnPDUs || len(txn.EDUs) > maxTxnEDUs {
		return spec.TooLarge("at most %d PDUs and %d EDUs per transaction", maxTxnPDUs, maxTxnEDUs)
	}
	results := map[string]pduResult{}
	for _, raw := range txn.PDUs {
		id, err := r.receivePDU(ctx, origin, raw)
		if id == "" {
			continue // unparseable: no ID to report it under
		}
		results[id] = pduResult{}
		if err != nil {
			r.log.Info("inbound PDU refused", "origin", origin, "event", id, "err", err)
			results[id] = pduResult{Error: publicReason(err)}
		}
	}
	r.receiveEDUs(ctx, origin, txn.EDUs)
	body, err := json.Marshal(map[string]any{"pdus": results})
	if err != nil {
		return err
	}
	saveErr := r.opts.Store.SaveInboundTxn(ctx, models.InboundTxn{Origin: string(origin), TxnID: txnID,
		Response: string(body), CreatedAt: r.now().UnixMilli()})
	if saveErr != nil && !errors.Is(saveErr, store.ErrConflict) {
		return saveErr
	}
	return c.JSONBlob(http.StatusOK, body)
}

// receivePDU checks one PDU and hands it to its room. It returns the event
// ID (empty if the PDU could not be read at all).
func (r *Receiver) receivePDU(ctx context.Context, origin spec.ServerName, raw json.RawMessage) (string, error) {
	var head struct {
		RoomID string `json:"room_id"`
	}
	if err := json.Unmarshal(raw, &head); err != nil || head.RoomID == "" {
		return "", spec.BadJSON("PDU without room_id")
	}
	rv, err := r.roomVersion(ctx, spec.RoomID(head.RoomID))
	if err != nil {
		// A room we do not know: the PDU still gets a result (server-server
		// -api "Transactions": every PDU of the transaction is answered).
		return guessEventID(raw), err
	}
	parsed, err := event.Parse(rv, raw)
	if err != nil {
		return "", err
	}
	if err := r.checkACL(ctx, head.RoomID, origin); err != nil {
		return parsed.EventID(), err
	}
	ev, err := membership.VerifyParsed(ctx, r.opts.Ring, parsed)
	if err != nil {
		return parsed.EventID(), err
	}
	if err := r.acceptWithGaps(ctx, origin, ev); err != nil {
		return ev.EventID(), roomErr(err)
	}
	return ev.EventID(), nil
}

// publicReason is the error text a remote server sees for a refused PDU.
func publicReason(err error) string {
	var me *spec.Error
	if errors.As(err, &me) {
		return string(me.Code) + ": " + me.Message
	}
	return "could not process the event"
}

// guessEventID names a PDU of a room whose version we do not know: its
// event_id field (room versions 1 and 2), else the reference hash ID that
// every later version shares the form of.
func guessEventID(raw json.RawMessage) string {
	var v struct {
		EventID string `json:"event_id"`
	}
	if json.Unmarshal(raw, &v) == nil && v.EventID != "" {
		return v.EventID
	}
	if ev, err := event.Parse(event.LookupRoomVersion("10"), raw); err == nil {
		return ev.EventID()
	}
	return ""
}
