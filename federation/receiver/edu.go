package receiver

import (
	"context"
	"encoding/json"
	"time"

	"github.com/kabarchat/kabar/e2ee"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
)

// KeyServer is the key server (e2ee.Service): it takes the to-device,
// device-list and signing-key EDUs and answers the /user/* endpoints.
type KeyServer interface {
	DeliverRemoteToDevice(ctx context.Context, origin spec.ServerName, raw json.RawMessage) error
	ReceiveDeviceListUpdate(ctx context.Context, origin spec.ServerName, raw json.RawMessage) error
	ReceiveSigningKeyUpdate(ctx context.Context, origin spec.ServerName, raw json.RawMessage) error
	QueryLocalKeys(ctx context.Context, req map[string][]string) (*e2ee.QueryResponse, error)
	ClaimLocalKeys(ctx context.Context, req map[string]map[string]string) (map[string]map[string]map[string]json.RawMessage, error)
	UserDevices(ctx context.Context, userID string) (map[string]any, error)
}

// Ephemeral takes remote users' typing notifications and read receipts
// into the /sync streams (the sync engine).
type Ephemeral interface {
	SetTyping(roomID, userID string, timeout time.Duration)
	PutReceipt(ctx context.Context, r models.Receipt) error
}

// Presence takes remote presence updates (server-server-api "Presence").
// Kabar has no presence service yet: while Options.Presence is nil,
// m.presence EDUs are ignored.
type Presence interface {
	ReceiveRemotePresence(ctx context.Context, origin spec.ServerName, update json.RawMessage) error
}

// remoteTypingTimeout is how long a remote user's "typing: true" lasts: the
// EDU carries no timeout and the origin sends "typing: false" when done.
const remoteTypingTimeout = 30 * time.Second

// eduEnvelope is one entry of a transaction's "edus".
type eduEnvelope struct {
	Type    string          `json:"edu_type"`
	Content json.RawMessage `json:"content"`
}

// receiveEDUs dispatches a transaction's EDUs to their handlers. A bad or
// unknown EDU is logged and skipped: EDUs have no per-item result and must
// never fail the transaction (server-server-api "EDUs").
func (r *Receiver) receiveEDUs(ctx context.Context, origin spec.ServerName, raws []json.RawMessage) {
	for _, raw := range raws {
		var e eduEnvelope
		if err := json.Unmarshal(raw, &e); err != nil || e.Type == "" || len(e.Content) == 0 {
			r.log.Info("ignored malformed EDU", "origin", origin)
			continue
		}
		if err := r.receiveEDU(ctx, origin, e); err != nil {
			r.log.Info("ignored EDU", "origin", origin, "type", e.Type, "err", err)
		}
	}
}

func (r *Receiver) receiveEDU(ctx context.Context, origin spec.ServerName, e eduEnvelope) error {
	keys := r.opts.Keys
	switch e.Type {
	case "m.typing":
		return r.receiveTyping(ctx, origin, e.Content)
	case "m.receipt":
		return r.receiveReceipts(ctx, origin, e.Content)
	case "m.presence":
		if r.opts.Presence == nil {
			return nil
		}
		return r.opts.Presence.ReceiveRemotePresence(ctx, origin, e.Content)
	case "m.direct_to_device":
		if keys == nil {
			return nil
		}
		return keys.DeliverRemoteToDevice(ctx, origin, e.Content)
	case "m.device_list_update":
		if keys == nil {
			return nil
		}
		return keys.ReceiveDeviceListUpdate(ctx, origin, e.Content)
	case "m.signing_key_update":
		if keys == nil {
			return nil
		}
		return keys.ReceiveSigningKeyUpdate(ctx, origin, e.Content)
	default:
		return nil // unknown EDU types are ignored
	}
}

// receiveTyping applies an m.typing EDU (server-server-api "Typing
// Notifications": the user must belong to the origin and be in the room).
func (r *Receiver) receiveTyping(ctx context.Context, origin spec.ServerName, raw json.RawMessage) error {
	var t struct {
		RoomID string `json:"room_id"`
		UserID string `json:"user_id"`
		Typing *bool  `json:"typing"`
	}
	if err := json.Unmarshal(raw, &t); err != nil || t.Typing == nil {
		return spec.BadJSON("m.typing needs room_id, user_id and typing")
	}
	if err := r.checkEphemeralSender(ctx, origin, t.RoomID, t.UserID); err != nil {
		return err
	}
	timeout := time.Duration(0)
	if *t.Typing {
		timeout = remoteTypingTimeout
	}
	r.opts.Ephemeral.SetTyping(t.RoomID, t.UserID, timeout)
	return nil
}

// receiptEntry is one user's receipt in an m.receipt EDU.
type receiptEntry struct {
	EventIDs []string `json:"event_ids"`
	Data     struct {
		TS       int64  `json:"ts"`
		ThreadID string `json:"thread_id"`
	} `json:"data"`
}

// receiveReceipts applies an m.receipt EDU: only the listed receipts are
// updated (server-server-api "Receipts"); each one is checked on its own.
func (r *Receiver) receiveReceipts(ctx context.Context, origin spec.ServerName, raw json.RawMessage) error {
	var byRoom map[string]map[string]map[string]receiptEntry
	if err := json.Unmarshal(raw, &byRoom); err != nil {
		return spec.BadJSON("m.receipt: %v", err)
	}
	for roomID, byType := range byRoom {
		for user, entry := range byType["m.read"] {
			if err := r.receiveReceipt(ctx, origin, roomID, user, entry); err != nil {
				r.log.Info("ignored receipt", "origin", origin, "room", roomID, "err", err)
			}
		}
	}
	return nil
}

func (r *Receiver) receiveReceipt(ctx context.Context, origin spec.ServerName, roomID, user string, e receiptEntry) error {
	if len(e.EventIDs) == 0 {
		return spec.BadJSON("receipt without event_ids")
	}
	if _, err := spec.ParseEventID(e.EventIDs[0]); err != nil {
		return spec.BadJSON("receipt for an invalid event ID")
	}
	if err := r.checkEphemeralSender(ctx, origin, roomID, user); err != nil {
		return err
	}
	return r.opts.Ephemeral.PutReceipt(ctx, models.Receipt{RoomID: roomID, Type: "m.read", UserID: user,
		ThreadID: e.Data.ThreadID, EventID: e.EventIDs[0]})
}

// checkEphemeralSender allows typing and receipts only for a user of the
// origin who is joined to the room, from an origin the room's server ACL
// admits (server-server-api "Server Access Control Lists (ACLs)").
func (r *Receiver) checkEphemeralSender(ctx context.Context, origin spec.ServerName, roomID, userID string) error {
	if r.opts.Ephemeral == nil || r.opts.Rooms == nil {
		return spec.NotFound("ephemeral events are not accepted")
	}
	u, err := spec.ParseUserID(userID)
	if err != nil || u.Server() != origin {
		return spec.Forbidden("user %q does not belong to %s", userID, origin)
	}
	if _, err := spec.ParseRoomID(roomID); err != nil {
		return spec.BadJSON("invalid room ID %q", roomID)
	}
	m, err := r.opts.Store.CurrentMembership(ctx, roomID, userID)
	if err != nil {
		return err
	}
	if m != "join" {
		return spec.Forbidden("%s is not joined to %s", userID, roomID)
	}
	return r.checkACL(ctx, roomID, origin)
}
