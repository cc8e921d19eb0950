package sync

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/kabarchat/kabar/clientapi/clientevent"
	"github.com/kabarchat/kabar/models/spec"
)

// Simplified sliding sync (MSC4186, served by Synapse at
// POST /_matrix/client/unstable/org.matrix.simplified_msc3575/sync): the
// client asks for windows ("lists") over its rooms sorted by recency plus
// explicit room subscriptions, and the server sends only the rooms in
// those windows that the connection does not have yet or that changed
// since its last position. What a connection has is kept in memory
// (sliding_conn.go); the rest reuses the classic /sync builder.

// Limits on a sliding sync request: a client asks for far less (Element X
// uses two or three lists of one range each).
const (
	maxSlidingLists   = 64
	maxSlidingRanges  = 64
	maxSlidingSubs    = 512
	maxListNameLen    = 64
	maxConnIDLen      = 256
	maxRequiredState  = 256
	maxFilterValues   = 256
	maxSlidingTimeout = 24 * time.Hour
)

// ErrUnknownPos is the MSC4186 error for a pos the server no longer (or
// never) knows: the client starts a new connection.
const ErrUnknownPos spec.Errcode = "M_UNKNOWN_POS"

func unknownPos() error {
	return spec.NewError(http.StatusBadRequest, ErrUnknownPos, "unknown or expired pos: start a new connection")
}

// SlidingRequest is one sliding sync call, parsed and authorized.
type SlidingRequest struct {
	UserID, DeviceID string
	// Pos is the position the client resumes from; "" starts the
	// connection afresh.
	Pos     string
	Timeout time.Duration
	Body    SlidingBody
}

// SlidingBody is the request body (MSC4186 "Request body"). Nothing is
// sticky: every request carries the whole configuration.
type SlidingBody struct {
	ConnID            string                   `json:"conn_id,omitempty"`
	Lists             map[string]SlidingList   `json:"lists,omitempty"`
	RoomSubscriptions map[string]RoomConfig    `json:"room_subscriptions,omitempty"`
	Extensions        SlidingExtensionsRequest `json:"extensions"`
}

// RoomConfig is what the client wants of each room it gets: the state
// entries ([type, state_key], with "*" wildcards, "$LAZY" members of the
// timeline's senders and "$ME") and how many timeline events.
type RoomConfig struct {
	RequiredState [][]string `json:"required_state,omitempty"`
	TimelineLimit int        `json:"timeline_limit"`
}

// SlidingList is one window over the user's rooms, sorted by recency.
type SlidingList struct {
	RoomConfig
	Ranges  [][]int64    `json:"ranges,omitempty"`
	Filters *ListFilters `json:"filters,omitempty"`
}

// ListFilters narrow a list; an absent field does not filter. A null in
// room_types stands for rooms without a type.
type ListFilters struct {
	IsDM         *bool     `json:"is_dm,omitempty"`
	IsInvite     *bool     `json:"is_invite,omitempty"`
	IsEncrypted  *bool     `json:"is_encrypted,omitempty"`
	IsTombstoned *bool     `json:"is_tombstoned,omitempty"`
	RoomTypes    []*string `json:"room_types,omitempty"`
	NotRoomTypes []*string `json:"not_room_types,omitempty"`
	// Tags and NotTags are m.tag names; Spaces are space room IDs.
	Tags    []string `json:"tags,omitempty"`
	NotTags []string `json:"not_tags,omitempty"`
	Spaces  []string `json:"spaces,omitempty"`
}

// SlidingExtensionsRequest enables the extensions (MSC3884/3885/3959/3960/3961
// as folded into MSC4186).
type SlidingExtensionsRequest struct {
	ToDevice    *ToDeviceExtRequest `json:"to_device,omitempty"`
	E2EE        *ExtEnabled         `json:"e2ee,omitempty"`
	AccountData *RoomsExtRequest    `json:"account_data,omitempty"`
	Receipts    *RoomsExtRequest    `json:"receipts,omitempty"`
	Typing      *RoomsExtRequest    `json:"typing,omitempty"`
}

// ExtEnabled switches an extension on.
type ExtEnabled struct {
	Enabled *bool `json:"enabled,omitempty"`
}

func (e *ExtEnabled) on() bool { return e != nil && e.Enabled != nil && *e.Enabled }

// ToDeviceExtRequest acknowledges the messages up to Since.
type ToDeviceExtRequest struct {
	ExtEnabled
	Since string `json:"since,omitempty"`
	Limit int    `json:"limit,omitempty"`
}

// RoomsExtRequest names the lists and rooms a per-room extension covers;
// absent means every one ("*").
type RoomsExtRequest struct {
	ExtEnabled
	Lists []string `json:"lists,omitempty"`
	Rooms []string `json:"rooms,omitempty"`
}

// ParseSlidingBody decodes and validates a request body: 400 M_NOT_JSON
// for something that is not a JSON object, M_BAD_JSON for wrong types,
// M_INVALID_PARAM for values out of range.
func ParseSlidingBody(data []byte) (SlidingBody, error) {
	var b SlidingBody
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		data = []byte("{}")
	}
	if data[0] != '{' || !json.Valid(data) || !utf8.Valid(data) {
		return b, spec.NotJSON("request body must be a JSON object")
	}
	if err := json.Unmarshal(data, &b); err != nil {
		return b, spec.BadJSON("%s", spec.DescribeJSONError("request body", err))
	}
	return b, b.validate()
}

func (b *SlidingBody) validate() error {
	if len(b.ConnID) > maxConnIDLen {
		return spec.InvalidParam("conn_id is longer than %d characters", maxConnIDLen)
	}
	if len(b.Lists) > maxSlidingLists {
		return spec.InvalidParam("at most %d lists", maxSlidingLists)
	}
	if len(b.RoomSubscriptions) > maxSlidingSubs {
		return spec.InvalidParam("at most %d room subscriptions", maxSlidingSubs)
	}
	for name, l := range b.Lists {
		if name == "" || len(name) > maxListNameLen {
			return spec.InvalidParam("list names are 1 to %d characters", maxListNameLen)
		}
		if len(l.Ranges) > maxSlidingRanges {
			return spec.InvalidParam("list %q: at most %d ranges", name, maxSlidingRanges)
		}
		for _, r := range l.Ranges {
			if len(r) != 2 || r[0] < 0 || r[1] < r[0] {
				return spec.InvalidParam("list %q: a range is [start, end] with 0 <= start <= end", name)
			}
		}
		if err := l.Filters.validate(name); err != nil {
			return err
		}
		if err := l.RoomConfig.validate("list " + name); err != nil {
			return err
		}
	}
	if td := b.Extensions.ToDevice; td != nil && td.Limit < 0 {
		return spec.InvalidParam("extensions.to_device.limit must not be negative")
	}
	for id, sub := range b.RoomSubscriptions {
		if _, err := spec.ParseRoomID(id); err != nil {
			return spec.InvalidParam("room_subscriptions: %q is not a room ID", id)
		}
		if err := sub.validate("room subscription " + id); err != nil {
			return err
		}
	}
	return nil
}

func (f *ListFilters) validate(list string) error {
	if f == nil {
		return nil
	}
	if len(f.Tags) > maxFilterValues || len(f.NotTags) > maxFilterValues || len(f.Spaces) > maxFilterValues ||
		len(f.RoomTypes) > maxFilterValues || len(f.NotRoomTypes) > maxFilterValues {
		return spec.InvalidParam("list %q: a filter has at most %d values", list, maxFilterValues)
	}
	for _, id := range f.Spaces {
		if _, err := spec.ParseRoomID(id); err != nil {
			return spec.InvalidParam("list %q: spaces: %q is not a room ID", list, id)
		}
	}
	return nil
}

func (c RoomConfig) validate(what string) error {
	if c.TimelineLimit < 0 {
		return spec.InvalidParam("%s: timeline_limit must not be negative", what)
	}
	if len(c.RequiredState) > maxRequiredState {
		return spec.InvalidParam("%s: at most %d required_state entries", what, maxRequiredState)
	}
	for _, rs := range c.RequiredState {
		if len(rs) != 2 {
			return spec.InvalidParam("%s: a required_state entry is [type, state_key]", what)
		}
	}
	return nil
}

// SlidingResponse is the response body (MSC4186 "Response body").
type SlidingResponse struct {
	Pos        string                       `json:"pos"`
	Lists      map[string]SlidingListResult `json:"lists"`
	Rooms      map[string]*SlidingRoom      `json:"rooms,omitempty"`
	Extensions SlidingExtensions            `json:"extensions"`
}

// SlidingListResult is a list's size after filtering.
type SlidingListResult struct {
	Count int `json:"count"`
}

// SlidingRoom is one room of the response. Fields the connection already
// has and that did not change are left out.
type SlidingRoom struct {
	Name    string `json:"name,omitempty"`
	Avatar  string `json:"avatar,omitempty"`
	Heroes  []Hero `json:"heroes,omitempty"`
	IsDM    bool   `json:"is_dm,omitempty"`
	Initial bool   `json:"initial,omitempty"`
	// ExpandedTimeline marks a timeline of the newest events sent because
	// the client raised timeline_limit: not a continuation of what it has.
	ExpandedTimeline  bool                `json:"unstable_expanded_timeline,omitempty"`
	RequiredState     []clientevent.Event `json:"required_state,omitempty"`
	Timeline          []clientevent.Event `json:"timeline,omitempty"`
	PrevBatch         string              `json:"prev_batch,omitempty"`
	Limited           bool                `json:"limited,omitempty"`
	NumLive           int                 `json:"num_live,omitempty"`
	JoinedCount       *int64              `json:"joined_count,omitempty"`
	InvitedCount      *int64              `json:"invited_count,omitempty"`
	NotificationCount int64               `json:"notification_count"`
	HighlightCount    int64               `json:"highlight_count"`
	BumpStamp         int64               `json:"bump_stamp,omitempty"`
	InviteState       []json.RawMessage   `json:"invite_state,omitempty"`
	KnockState        []json.RawMessage   `json:"knock_state,omitempty"`
}

// Hero is a member a client may name an unnamed room after.
type Hero struct {
	UserID      string `json:"user_id"`
	DisplayName string `json:"displayname,omitempty"`
	AvatarURL   string `json:"avatar_url,omitempty"`
}

// SlidingExtensions are the enabled extensions' sections.
type SlidingExtensions struct {
	ToDevice    *ToDeviceExt    `json:"to_device,omitempty"`
	E2EE        *E2EEExt        `json:"e2ee,omitempty"`
	AccountData *AccountDataExt `json:"account_data,omitempty"`
	Receipts    *RoomEventsExt  `json:"receipts,omitempty"`
	Typing      *RoomEventsExt  `json:"typing,omitempty"`
}

// ToDeviceExt carries the device's to-device messages; the client sends
// next_batch back as since, which acknowledges (deletes) them.
type ToDeviceExt struct {
	NextBatch string            `json:"next_batch"`
	Events    []json.RawMessage `json:"events"`
}

// E2EEExt is the device list and key count section.
type E2EEExt struct {
	DeviceLists                  *DeviceLists   `json:"device_lists,omitempty"`
	DeviceOneTimeKeysCount       map[string]int `json:"device_one_time_keys_count"`
	DeviceUnusedFallbackKeyTypes []string       `json:"device_unused_fallback_key_types"`
}

// AccountDataExt is the global and per-room account data.
type AccountDataExt struct {
	Global []json.RawMessage            `json:"global,omitempty"`
	Rooms  map[string][]json.RawMessage `json:"rooms,omitempty"`
}

// RoomEventsExt holds one ephemeral event (m.receipt, m.typing) per room.
type RoomEventsExt struct {
	Rooms map[string]json.RawMessage `json:"rooms"`
}
