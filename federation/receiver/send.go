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
	"github.com/kabarchat/kabar/federation/rooms"
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
	set := func(id string, err error) {
		results[id] = pduResult{}
		if err != nil {
			r.log.Info("inbound PDU refused", "origin", origin, "event", id, "err", err)
			results[id] = pduResult{Error: publicReason(err)}
		}
	}
	seen := txnRooms{}
	var checked []*event.Event
	for _, raw := range txn.PDUs {
		ev, id, err := r.checkTxnPDU(ctx, origin, raw, seen)
		switch {
		case id == "":
			continue // unparseable: no ID to report it under
		case err != nil:
			set(id, err)
			continue
		}
		checked = append(checked, ev)
		if isACL(ev) {
			// The PDUs after it are checked against the new ACL: accept
			// what came before first.
			r.acceptPDUs(ctx, origin, checked, set)
			checked = checked[:0]
			seen[ev.RoomID()].aclSet = false
		}
	}
	r.acceptPDUs(ctx, origin, checked, set)
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

// txnRooms remembers, across the PDUs of one transaction, what each room
// answered: its version (which never changes) and whether its server ACL
// lets the origin in (until a PDU of the transaction changes the ACL). A
// transaction's PDUs are mostly of one room; without it each PDU read the
// room and its ACL again.
type txnRooms map[string]*txnRoom

type txnRoom struct {
	rv     *event.RoomVersion
	err    error // the room's version could not be read (unknown room)
	acl    error // the ACL check's outcome, valid when aclSet
	aclSet bool
}

// room returns the cached entry of roomID, reading the version once.
func (t txnRooms) room(ctx context.Context, r *Receiver, roomID string) *txnRoom {
	if e, ok := t[roomID]; ok {
		return e
	}
	e := &txnRoom{}
	e.rv, e.err = r.roomVersion(ctx, spec.RoomID(roomID))
	t[roomID] = e
	return e
}

// checkACL is Receiver.checkACL, once per room and transaction.
func (e *txnRoom) checkACL(ctx context.Context, r *Receiver, roomID string, origin spec.ServerName) error {
	if !e.aclSet {
		e.acl, e.aclSet = r.checkACL(ctx, roomID, origin), true
	}
	return e.acl
}

// checkTxnPDU runs the checks on one PDU that come before its room's:
// format, server ACL, signatures and content hash. It returns the event ID
// (empty if the PDU could not be read at all).
func (r *Receiver) checkTxnPDU(ctx context.Context, origin spec.ServerName, raw json.RawMessage, seen txnRooms) (*event.Event, string, error) {
	var head struct {
		RoomID string `json:"room_id"`
	}
	if err := json.Unmarshal(raw, &head); err != nil || head.RoomID == "" {
		return nil, "", spec.BadJSON("PDU without room_id")
	}
	room := seen.room(ctx, r, head.RoomID)
	if room.err != nil {
		// A room we do not know: the PDU still gets a result (server-server
		// -api "Transactions": every PDU of the transaction is answered).
		return nil, guessEventID(raw), room.err
	}
	parsed, err := event.Parse(room.rv, raw)
	if err != nil {
		return nil, "", err
	}
	if err := room.checkACL(ctx, r, head.RoomID, origin); err != nil {
		return nil, parsed.EventID(), err
	}
	ev, err := membership.VerifyParsed(ctx, r.opts.Ring, parsed)
	if err != nil {
		return nil, parsed.EventID(), err
	}
	return ev, ev.EventID(), nil
}

// acceptPDUs hands checked PDUs to their rooms all at once, so a room's
// actor checks them in order and commits them together (rooms
// AcceptRemoteAll); a PDU whose prev events are missing is then accepted
// alone, after filling the gap (acceptWithGaps).
func (r *Receiver) acceptPDUs(ctx context.Context, origin spec.ServerName, evs []*event.Event, set func(string, error)) {
	if len(evs) == 0 {
		return
	}
	errs := r.opts.Rooms.AcceptRemoteAll(ctx, evs)
	for i, ev := range evs {
		err := errs[i]
		if errors.Is(err, rooms.ErrMissingPrevEvents) {
			err = r.acceptWithGaps(ctx, origin, ev)
		}
		if err != nil {
			err = roomErr(err)
		}
		set(ev.EventID(), err)
	}
}

// isACL reports an m.room.server_acl state event.
func isACL(ev *event.Event) bool {
	return ev.Type() == "m.room.server_acl" && ev.StateKey() != nil && *ev.StateKey() == ""
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
