package store

import (
	"context"

	"github.com/kabarchat/kabar/models"
)

// DeleteCurrentState removes keys from a room's current state: state
// resolution of a federated room can drop a key that one fork had
// (server-server-api "Room State Resolution"). Call it inside Transaction.
func (s *Store) DeleteCurrentState(ctx context.Context, roomID string, keys []StateKey) error {
	for _, k := range keys {
		err := s.q(ctx).Where("room_id = ? AND type = ? AND state_key = ?", roomID, k.Type, k.StateKey).
			Delete(&models.CurrentState{}).Error
		if err != nil {
			return mapErr("delete current state of "+roomID, err)
		}
	}
	return nil
}

// InsertRejected stores a remote event that failed authorization, marked
// rejected, without a stream position: it is never served nor indexed and
// never becomes a forward extremity, but later events that cite it are
// rejected in turn (server-server-api "Rejection").
func (s *Store) InsertRejected(ctx context.Context, row models.Event) error {
	row.Rejected, row.StreamPos = true, 0
	return mapErr("insert rejected event "+row.EventID, s.q(ctx).Create(&row).Error)
}
