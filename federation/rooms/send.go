package rooms

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
)

// Txn identifies a client transaction (client-server-api "Transaction
// identifiers": scoped to one device and one HTTP endpoint); the zero value
// means none.
type Txn struct {
	DeviceID string
	// Scope names the endpoint: the request path without the transaction
	// ID (for example "/rooms/!r:hs/send/m.room.message"). Paths longer than
	// a column allows are hashed by the service.
	Scope string
	ID    string
}

// Sent is the outcome of a send: the event ID and the stream position at
// which it is readable.
type Sent struct {
	EventID   string
	StreamPos int64
}

// Send builds, authorizes and commits one event in an existing room and
// returns once it is durable. With a Txn, a repeated request returns the
// first event instead of creating another.
func (s *Service) Send(ctx context.Context, roomID spec.RoomID, p Proto, txn Txn) (Sent, error) {
	req := &request{proto: &p}
	if txn.ID != "" {
		req.txn = &models.TxnID{UserID: p.Sender, DeviceID: txn.DeviceID, Scope: scopeKey(txn.Scope), TxnID: txn.ID}
	}
	res, err := s.submit(ctx, string(roomID), req)
	if err != nil {
		return Sent{}, err
	}
	return Sent{EventID: res.EventID, StreamPos: res.StreamPos}, nil
}

// Membership changes one user's membership (client-server-api "Room
// membership"): join, invite, leave (also kick and unban), ban, knock.
// Reason is optional; extra content (displayname, avatar_url, is_direct) is
// merged in.
func (s *Service) Membership(ctx context.Context, roomID spec.RoomID, sender, target spec.UserID, membership, reason string, extra map[string]any) (Sent, error) {
	content := map[string]any{}
	for k, v := range extra {
		content[k] = v
	}
	content["membership"] = membership
	if reason != "" {
		content["reason"] = reason
	}
	sk := string(target)
	return s.Send(ctx, roomID, Proto{Type: "m.room.member", StateKey: &sk, Sender: string(sender), Content: content}, Txn{})
}

// Redact sends an m.room.redaction of eventID (client-server-api
// "Redactions").
func (s *Service) Redact(ctx context.Context, roomID spec.RoomID, sender spec.UserID, eventID spec.EventID, reason string, txn Txn) (Sent, error) {
	content := map[string]any{}
	if reason != "" {
		content["reason"] = reason
	}
	// v11+ carries redacts in content; earlier versions at the top level
	// (build puts it there). Both are set for the check in writer.add.
	content["redacts"] = string(eventID)
	return s.Send(ctx, roomID, Proto{Type: "m.room.redaction", Sender: string(sender), Content: content, Redacts: string(eventID)}, txn)
}

// scopeKey fits an endpoint path into the scope column: short paths are
// kept readable, long ones (room ID plus event type can reach 510 bytes)
// become their SHA-256.
func scopeKey(path string) string {
	if len(path) <= 128 {
		return path
	}
	sum := sha256.Sum256([]byte(path))
	return "sha256:" + hex.EncodeToString(sum[:])
}
