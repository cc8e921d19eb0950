package store

import (
	"context"

	"github.com/kabarchat/kabar/models"
)

// ForgetRoom marks a room forgotten by a user (client-server-api "Leaving
// rooms", POST /rooms/{roomId}/forget). Forgetting twice is fine.
func (s *Store) ForgetRoom(ctx context.Context, userID, roomID string, now int64) error {
	row := models.ForgottenRoom{UserID: userID, RoomID: roomID, ForgottenAt: now}
	err := s.q(ctx).Where("user_id = ? AND room_id = ?", userID, roomID).
		Assign(models.ForgottenRoom{ForgottenAt: now}).FirstOrCreate(&row).Error
	return mapErr("forget room "+roomID, err)
}

// RoomForgotten reports whether the user forgot the room.
func (s *Store) RoomForgotten(ctx context.Context, userID, roomID string) (bool, error) {
	var n int64
	err := s.q(ctx).Model(&models.ForgottenRoom{}).Where("user_id = ? AND room_id = ?", userID, roomID).Count(&n).Error
	return n > 0, mapErr("check forgotten room "+roomID, err)
}

// ForgottenRooms lists the rooms the user forgot (for /sync to skip them).
func (s *Store) ForgottenRooms(ctx context.Context, userID string) ([]string, error) {
	var rooms []string
	err := s.q(ctx).Model(&models.ForgottenRoom{}).Where("user_id = ?", userID).Order("room_id").Pluck("room_id", &rooms).Error
	return rooms, mapErr("list forgotten rooms of "+userID, err)
}

// unforget clears the forgotten mark of users who are back in the room
// (joined, invited or knocking), inside the batch's transaction.
func (s *Store) unforget(ctx context.Context, w *RoomWrite) error {
	var users []string
	for _, cs := range w.CurrentState {
		switch cs.Membership {
		case "join", "invite", "knock":
			users = append(users, cs.StateKey)
		}
	}
	if len(users) == 0 {
		return nil
	}
	err := s.q(ctx).Where("room_id = ? AND user_id IN ?", w.RoomID, users).Delete(&models.ForgottenRoom{}).Error
	return mapErr("clear forgotten marks in "+w.RoomID, err)
}

// CreateReport stores a content report.
func (s *Store) CreateReport(ctx context.Context, r models.Report) error {
	return mapErr("store report", s.q(ctx).Create(&r).Error)
}
