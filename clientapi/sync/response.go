package sync

import (
	"encoding/json"

	"github.com/kabarchat/kabar/clientapi/clientevent"
)

// Response is the body of GET /sync (client-server-api "Syncing",
// sync.yaml).
type Response struct {
	NextBatch                    string         `json:"next_batch"`
	Rooms                        *Rooms         `json:"rooms,omitempty"`
	AccountData                  *RawEvents     `json:"account_data,omitempty"`
	Presence                     *RawEvents     `json:"presence,omitempty"`
	ToDevice                     *RawEvents     `json:"to_device,omitempty"`
	DeviceLists                  *DeviceLists   `json:"device_lists,omitempty"`
	DeviceOneTimeKeysCount       map[string]int `json:"device_one_time_keys_count,omitempty"`
	DeviceUnusedFallbackKeyTypes *[]string      `json:"device_unused_fallback_key_types,omitempty"`
	next                         Token          `json:"-"`
	changed                      bool           `json:"-"`
}

// Rooms are the per-room updates by the user's membership.
type Rooms struct {
	Join   map[string]*JoinedRoom  `json:"join,omitempty"`
	Invite map[string]*InvitedRoom `json:"invite,omitempty"`
	Leave  map[string]*LeftRoom    `json:"leave,omitempty"`
	Knock  map[string]*KnockedRoom `json:"knock,omitempty"`
}

// JoinedRoom is rooms.join.{roomId}.
type JoinedRoom struct {
	Summary             *Summary      `json:"summary,omitempty"`
	State               *StateEvents  `json:"state,omitempty"`
	Timeline            *Timeline     `json:"timeline,omitempty"`
	Ephemeral           *RawEvents    `json:"ephemeral,omitempty"`
	AccountData         *RawEvents    `json:"account_data,omitempty"`
	UnreadNotifications *UnreadCounts `json:"unread_notifications,omitempty"`
	// UnreadThreadNotifications are per-thread counts (filter
	// unread_thread_notifications).
	UnreadThreadNotifications map[string]UnreadCounts `json:"unread_thread_notifications,omitempty"`
}

// LeftRoom is rooms.leave.{roomId}.
type LeftRoom struct {
	State       *StateEvents `json:"state,omitempty"`
	Timeline    *Timeline    `json:"timeline,omitempty"`
	AccountData *RawEvents   `json:"account_data,omitempty"`
}

// InvitedRoom is rooms.invite.{roomId}: stripped state only.
type InvitedRoom struct {
	InviteState RawEvents `json:"invite_state"`
}

// KnockedRoom is rooms.knock.{roomId}.
type KnockedRoom struct {
	KnockState RawEvents `json:"knock_state"`
}

// Summary is the room summary (client-server-api "Calculating the display
// name for a room" inputs).
type Summary struct {
	Heroes      []string `json:"m.heroes,omitempty"`
	JoinedCount *int64   `json:"m.joined_member_count,omitempty"`
	InvitedCnt  *int64   `json:"m.invited_member_count,omitempty"`
}

// StateEvents is a list of state events.
type StateEvents struct {
	Events []clientevent.Event `json:"events"`
}

// Timeline is a room's timeline slice.
type Timeline struct {
	Events    []clientevent.Event `json:"events"`
	Limited   bool                `json:"limited"`
	PrevBatch string              `json:"prev_batch,omitempty"`
}

// RawEvents is a list of non-room events (account data, ephemeral,
// presence, to-device, stripped state).
type RawEvents struct {
	Events []json.RawMessage `json:"events"`
}

// DeviceLists is the device_lists section.
type DeviceLists struct {
	Changed []string `json:"changed,omitempty"`
	Left    []string `json:"left,omitempty"`
}

// UnreadCounts is unread_notifications.
type UnreadCounts struct {
	NotificationCount int64 `json:"notification_count"`
	HighlightCount    int64 `json:"highlight_count"`
}

// Next is the token the response leads to.
func (r *Response) Next() Token { return r.next }

func (r *Response) rooms() *Rooms {
	if r.Rooms == nil {
		r.Rooms = &Rooms{}
	}
	return r.Rooms
}

func (r *Rooms) join(id string) *JoinedRoom {
	if r.Join == nil {
		r.Join = map[string]*JoinedRoom{}
	}
	if r.Join[id] == nil {
		r.Join[id] = &JoinedRoom{}
	}
	return r.Join[id]
}
