package eventauth

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/models/spec"
)

// CreatorLevel is the power level of room creators in versions with
// RoomIDFromCreate (rooms/v12.md: "infinitely high"). Real levels are bounded
// by canonical JSON to 2^53-1, so this compares above all of them.
const CreatorLevel int64 = math.MaxInt64

// Defaults from the m.room.power_levels schema (client-server API) and
// server-server-api "Definitions".
const (
	defaultBan           = 50
	defaultKick          = 50
	defaultRedact        = 50
	defaultInvite        = 0
	defaultStateDefault  = 50
	defaultEventsDefault = 0
	defaultUsersDefault  = 0
	defaultNotifyRoom    = 50
	creatorWithoutPL     = 100
)

// PowerLevels is an m.room.power_levels content with defaults applied.
type PowerLevels struct {
	Ban, Kick, Invite, Redact                 int64
	StateDefault, EventsDefault, UsersDefault int64
	Events                                    map[string]int64
	Notifications                             map[string]int64
	Users                                     map[string]int64
	// creators have CreatorLevel (v12), or 100 when the room has no
	// power levels event (v1-v11).
	creators map[string]int64
}

// DefaultPowerLevels are the levels of a room with no power levels event.
func DefaultPowerLevels() *PowerLevels {
	return &PowerLevels{
		Ban: defaultBan, Kick: defaultKick, Invite: defaultInvite, Redact: defaultRedact,
		StateDefault: defaultStateDefault, EventsDefault: defaultEventsDefault,
		UsersDefault: defaultUsersDefault,
		Events:       map[string]int64{}, Notifications: map[string]int64{},
		Users: map[string]int64{}, creators: map[string]int64{},
	}
}

// ParsePowerLevels parses power levels content strictly for the room
// version: integers only from v10 (IntegerPowerLevels), integer strings
// before that, floats (truncated) where canonical JSON is not enforced
// (rooms/fragments/v1-stringy-power-levels.md, v1-floaty-power-levels.md).
// Every invalid value is reported; the returned levels use defaults for them.
func ParsePowerLevels(rv *event.RoomVersion, content []byte) (*PowerLevels, error) {
	pl := DefaultPowerLevels()
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(content, &obj); err != nil {
		return pl, fmt.Errorf("power levels content is not an object")
	}
	var errs []string
	for key, dst := range map[string]*int64{
		"ban": &pl.Ban, "kick": &pl.Kick, "invite": &pl.Invite, "redact": &pl.Redact,
		"state_default": &pl.StateDefault, "events_default": &pl.EventsDefault,
		"users_default": &pl.UsersDefault,
	} {
		if raw, ok := obj[key]; ok {
			v, err := parseLevel(rv, raw)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s: %v", key, err))
				continue
			}
			*dst = v
		}
	}
	errs = append(errs, parseLevelMap(rv, obj, "events", pl.Events, false)...)
	errs = append(errs, parseLevelMap(rv, obj, "notifications", pl.Notifications, false)...)
	errs = append(errs, parseLevelMap(rv, obj, "users", pl.Users, true)...)
	if len(errs) > 0 {
		sort.Strings(errs)
		return pl, fmt.Errorf("invalid power levels: %s", errs[0])
	}
	return pl, nil
}

// parseLevelMap fills dst from obj[key], which must be an object of levels;
// user maps also need valid user IDs as keys.
func parseLevelMap(rv *event.RoomVersion, obj map[string]json.RawMessage, key string,
	dst map[string]int64, userKeys bool) []string {
	raw, ok := obj[key]
	if !ok {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return []string{key + " is not an object"}
	}
	var errs []string
	for k, vraw := range m {
		if userKeys {
			if _, err := spec.ParseUserID(k); err != nil {
				errs = append(errs, fmt.Sprintf("%s: %q is not a user ID", key, k))
				continue
			}
		}
		v, err := parseLevel(rv, vraw)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s.%s: %v", key, k, err))
			continue
		}
		dst[k] = v
	}
	return errs
}

// PowerLevelsFromState returns the levels in force given the room's create
// event and its power levels event (nil if none). Invalid values in an
// accepted power levels event fall back to their defaults.
func PowerLevelsFromState(create, powerLevels Event) *PowerLevels {
	var rv *event.RoomVersion
	if create != nil {
		rv = create.Version()
	}
	pl := DefaultPowerLevels()
	if powerLevels != nil && rv != nil {
		pl, _ = ParsePowerLevels(rv, powerLevels.Content())
	}
	if create == nil || rv == nil {
		return pl
	}
	switch {
	case rv.RoomIDFromCreate:
		for _, c := range Creators(create) {
			pl.creators[c] = CreatorLevel
		}
	case powerLevels == nil:
		for _, c := range Creators(create) {
			pl.creators[c] = creatorWithoutPL
		}
	}
	return pl
}

// Creators returns the room creators: the create event's sender (or, before
// v11, content.creator) plus, from v12, content.additional_creators.
func Creators(create Event) []string {
	rv := create.Version()
	obj := parseObject(create.Content())
	if rv != nil && !rv.CreatorInSender {
		if c, ok := stringField(obj, "creator"); ok {
			return []string{c}
		}
		return nil
	}
	out := []string{create.Sender()}
	if rv != nil && rv.RoomIDFromCreate {
		var extra []string
		if err := json.Unmarshal(obj["additional_creators"], &extra); err == nil {
			out = append(out, extra...)
		}
	}
	return out
}

// UserLevel is the power level of userID.
func (pl *PowerLevels) UserLevel(userID string) int64 {
	if v, ok := pl.creators[userID]; ok {
		return v
	}
	if v, ok := pl.Users[userID]; ok {
		return v
	}
	return pl.UsersDefault
}

// IsCreator reports whether userID has a creator's power (see PowerLevelsFromState).
func (pl *PowerLevels) IsCreator(userID string) bool {
	_, ok := pl.creators[userID]
	return ok
}

// EventLevel is the level needed to send an event of this type
// (server-server-api "Required Power Level").
func (pl *PowerLevels) EventLevel(eventType string, isState bool) int64 {
	if v, ok := pl.Events[eventType]; ok {
		return v
	}
	if isState {
		return pl.StateDefault
	}
	return pl.EventsDefault
}

// NotificationLevel is the level needed for a notification key such as "room".
func (pl *PowerLevels) NotificationLevel(key string) int64 {
	if v, ok := pl.Notifications[key]; ok {
		return v
	}
	// The schema only defines "room" (default 50); other keys get the same.
	return defaultNotifyRoom
}
