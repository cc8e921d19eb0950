package rooms

import (
	"context"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
)

// Txn identifies a client transaction (client-server-api "Transaction
// identifiers"); the zero value means none.
type Txn struct {
	DeviceID string
	ID       string
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
		req.txn = &models.TxnID{UserID: p.Sender, DeviceID: txn.DeviceID, RoomID: string(roomID), TxnID: txn.ID}
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
