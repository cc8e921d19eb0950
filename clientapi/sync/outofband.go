package sync

import (
	"context"
	"encoding/json"

	"github.com/kabarchat/kabar/models"
)

// Out-of-band memberships: an invite to a room this server is not in, and
// the leave that rejects it, are stored without the room's state (no state
// snapshot: StateBefore and StateAfter are 0). The federation receiver
// keeps the stripped state the inviting server sent in the invite's
// unsigned.invite_room_state (server-server-api "Inviting to a room").

// outOfBand reports a membership event stored out of band.
func outOfBand(member models.Event) bool {
	return member.StateBefore == 0 && member.StateAfter == 0
}

// inviteRoomState returns the stripped state an out-of-band invite carries
// (nil for an invite of a room we know, whose current state is used).
func inviteRoomState(member models.Event) []json.RawMessage {
	if !outOfBand(member) {
		return nil
	}
	var ev struct {
		Unsigned struct {
			InviteRoomState []json.RawMessage `json:"invite_room_state"`
		} `json:"unsigned"`
	}
	json.Unmarshal([]byte(member.JSON), &ev) // stored events are valid JSON
	return ev.Unsigned.InviteRoomState
}

// outOfBandLeft adds rooms.leave for a rejected out-of-band invite: the
// leave alone in the timeline, no state (there is none here). It reports
// false for a room we know, which leftRoom serves as usual.
func (b *builder) outOfBandLeft(ctx context.Context, roomID string, member models.Event) (bool, error) {
	if !outOfBand(member) {
		return false, nil
	}
	events, err := b.format(ctx, []models.Event{member})
	if err != nil {
		return true, err
	}
	r := b.resp.rooms()
	if r.Leave == nil {
		r.Leave = map[string]*LeftRoom{}
	}
	r.Leave[roomID] = &LeftRoom{Timeline: &Timeline{Events: events, PrevBatch: b.now.String()}, State: &StateEvents{Events: events[:0]}}
	b.resp.changed = true
	return true, nil
}
