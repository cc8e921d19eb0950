package sync

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/kabarchat/kabar/models/spec"
)

// Filter is a client filter (client-server-api "Filtering";
// definitions/sync_filter.yaml). Absent lists mean "no restriction".
type Filter struct {
	EventFields []string        `json:"event_fields,omitempty"`
	EventFormat string          `json:"event_format,omitempty"`
	Presence    *EventFilter    `json:"presence,omitempty"`
	AccountData *EventFilter    `json:"account_data,omitempty"`
	Room        *RoomFilter     `json:"room,omitempty"`
	raw         json.RawMessage `json:"-"`
}

// EventFilter selects events by type and sender (definitions/event_filter.yaml).
type EventFilter struct {
	Limit      *int      `json:"limit,omitempty"`
	Types      *[]string `json:"types,omitempty"`
	NotTypes   []string  `json:"not_types,omitempty"`
	Senders    *[]string `json:"senders,omitempty"`
	NotSenders []string  `json:"not_senders,omitempty"`
}

// RoomEventFilter adds room and lazy-loading options
// (definitions/room_event_filter.yaml).
type RoomEventFilter struct {
	EventFilter
	Rooms                     *[]string `json:"rooms,omitempty"`
	NotRooms                  []string  `json:"not_rooms,omitempty"`
	ContainsURL               *bool     `json:"contains_url,omitempty"`
	LazyLoadMembers           bool      `json:"lazy_load_members,omitempty"`
	IncludeRedundantMembers   bool      `json:"include_redundant_members,omitempty"`
	UnreadThreadNotifications bool      `json:"unread_thread_notifications,omitempty"`
}

// RoomFilter is the "room" part of a filter.
type RoomFilter struct {
	Rooms        *[]string        `json:"rooms,omitempty"`
	NotRooms     []string         `json:"not_rooms,omitempty"`
	IncludeLeave bool             `json:"include_leave,omitempty"`
	Timeline     *RoomEventFilter `json:"timeline,omitempty"`
	State        *RoomEventFilter `json:"state,omitempty"`
	Ephemeral    *RoomEventFilter `json:"ephemeral,omitempty"`
	AccountData  *RoomEventFilter `json:"account_data,omitempty"`
}

// MaxFilterSize bounds a stored or inline filter.
const MaxFilterSize = 64 * 1024

// ParseFilter decodes and validates a filter. The error text is meant for
// the client (400 M_BAD_JSON).
func ParseFilter(data []byte) (*Filter, error) {
	if len(data) > MaxFilterSize {
		return nil, fmt.Errorf("filter is larger than %d bytes", MaxFilterSize)
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("filter must be a JSON object")
	}
	if !utf8.Valid(trimmed) {
		// json.Unmarshal would accept it, but the raw filter is stored.
		return nil, errors.New("filter is not valid UTF-8")
	}
	var f Filter
	if err := json.Unmarshal(trimmed, &f); err != nil {
		return nil, errors.New(spec.DescribeJSONError("filter", err))
	}
	if f.EventFormat != "" && f.EventFormat != "client" && f.EventFormat != "federation" {
		return nil, fmt.Errorf("event_format must be \"client\" or \"federation\"")
	}
	for _, ef := range f.eventFilters() {
		if ef.Limit != nil && *ef.Limit < 0 {
			return nil, fmt.Errorf("limit must not be negative")
		}
	}
	f.raw = append(json.RawMessage(nil), trimmed...)
	return &f, nil
}

func (f *Filter) eventFilters() []*EventFilter {
	out := []*EventFilter{f.Presence, f.AccountData}
	if r := f.Room; r != nil {
		for _, rf := range []*RoomEventFilter{r.Timeline, r.State, r.Ephemeral, r.AccountData} {
			if rf != nil {
				out = append(out, &rf.EventFilter)
			}
		}
	}
	return slices.DeleteFunc(out, func(e *EventFilter) bool { return e == nil })
}

// Raw is the filter as the client sent it (GET /user/{userId}/filter/{id}).
func (f *Filter) Raw() json.RawMessage { return f.raw }

// Room part accessors; they return usable zero values for absent parts.

// RoomPart returns the room filter (never nil).
func (f *Filter) RoomPart() *RoomFilter {
	if f == nil || f.Room == nil {
		return &RoomFilter{}
	}
	return f.Room
}

// TimelineFilter returns the timeline filter (never nil).
func (r *RoomFilter) TimelineFilter() *RoomEventFilter { return orEmpty(r.Timeline) }

// StateFilter returns the state filter (never nil).
func (r *RoomFilter) StateFilter() *RoomEventFilter { return orEmpty(r.State) }

// EphemeralFilter returns the ephemeral filter (never nil).
func (r *RoomFilter) EphemeralFilter() *RoomEventFilter { return orEmpty(r.Ephemeral) }

// AccountDataFilter returns the per-room account data filter (never nil).
func (r *RoomFilter) AccountDataFilter() *RoomEventFilter { return orEmpty(r.AccountData) }

func orEmpty(f *RoomEventFilter) *RoomEventFilter {
	if f == nil {
		return &RoomEventFilter{}
	}
	return f
}

// AllowsRoom applies rooms/not_rooms of the room filter.
func (r *RoomFilter) AllowsRoom(roomID string) bool {
	return allowed(roomID, r.Rooms, r.NotRooms, false)
}

// LimitOr returns the filter's limit, or def when absent.
func (e *EventFilter) LimitOr(def int) int {
	if e == nil || e.Limit == nil {
		return def
	}
	return *e.Limit
}

// Allows reports whether an event of this type and sender passes.
func (e *EventFilter) Allows(typ, sender string) bool {
	if e == nil {
		return true
	}
	return allowed(typ, e.Types, e.NotTypes, true) && allowed(sender, e.Senders, e.NotSenders, false)
}

// AllowsEvent applies the room event filter to one event; hasURL tells
// whether its content has a "url" key.
func (r *RoomEventFilter) AllowsEvent(roomID, typ, sender string, hasURL bool) bool {
	if r == nil {
		return true
	}
	if !allowed(roomID, r.Rooms, r.NotRooms, false) || !r.EventFilter.Allows(typ, sender) {
		return false
	}
	return r.ContainsURL == nil || *r.ContainsURL == hasURL
}

// allowed implements the include/exclude lists: the exclude list wins; an
// absent include list allows everything, an empty one nothing. Type lists
// accept a trailing '*' wildcard (event_filter.yaml).
func allowed(v string, include *[]string, exclude []string, wildcard bool) bool {
	match := func(p string) bool {
		if wildcard && strings.HasSuffix(p, "*") {
			return strings.HasPrefix(v, p[:len(p)-1])
		}
		return p == v
	}
	if slices.ContainsFunc(exclude, match) {
		return false
	}
	return include == nil || slices.ContainsFunc(*include, match)
}

// ParseRoomEventFilter decodes the RoomEventFilter of /messages and
// /context.
func ParseRoomEventFilter(data []byte) (*RoomEventFilter, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' || len(trimmed) > MaxFilterSize {
		return nil, fmt.Errorf("filter must be a JSON object")
	}
	var f RoomEventFilter
	if err := json.Unmarshal(trimmed, &f); err != nil {
		return nil, errors.New(spec.DescribeJSONError("filter", err))
	}
	if f.Limit != nil && *f.Limit < 0 {
		return nil, fmt.Errorf("limit must not be negative")
	}
	return &f, nil
}
