package event

// RoomVersion describes how one room version behaves: its event format,
// redaction algorithm, authorization rules and state resolution
// (rooms/v1.md .. rooms/v12.md). Code branches on these properties, never on
// the version string.
type RoomVersion struct {
	ID string

	// EventFormat: 1 = event_id carried in the event, prev/auth events as
	// [id, hashes] pairs (v1, v2); 2 = event ID is the reference hash in
	// standard unpadded base64 (v3); 3 = URL-safe unpadded base64 (v4+).
	EventFormat int
	// StateRes: 1 = state resolution v1 (v1); 2 = v2 (v2-v11); 3 = v2.1 (v12).
	StateRes int
	// EnforceKeyValidity: signing keys must be valid at origin_server_ts (v5+).
	EnforceKeyValidity bool
	// SpecialCaseAliases: m.room.aliases has its own auth rule (v1-v5).
	SpecialCaseAliases bool
	// StrictCanonicalJSON: integers out of range and floats are rejected (v6+).
	StrictCanonicalJSON bool
	// NotificationsPowerLevels: "notifications" is checked in power level changes (v6+).
	NotificationsPowerLevels bool
	// Knock: the knock join rule and membership (v7+).
	Knock bool
	// Restricted: the restricted join rule (v8+).
	Restricted bool
	// KnockRestricted: the knock_restricted join rule (v10+).
	KnockRestricted bool
	// IntegerPowerLevels: power level values must be integers, not strings (v10+).
	IntegerPowerLevels bool
	// Redaction algorithm: which content keys survive (see redaction.go).
	RedactionRules RedactionRules
	// CreatorInSender: the room creator is the create event's sender, the
	// "creator" content key is not used (v11+).
	CreatorInSender bool
	// RedactsInContent: m.room.redaction carries "redacts" in content (v11+).
	RedactsInContent bool
	// RoomIDFromCreate: the room ID is derived from the create event's
	// reference hash, create events carry no room_id, creators (sender and
	// additional_creators) have infinite power, and auth events must be from
	// the same room (v12).
	RoomIDFromCreate bool
}

// RedactionRules selects the redaction algorithm variants.
type RedactionRules struct {
	// KeepAliasesContent: m.room.aliases keeps "aliases" (v1-v5).
	KeepAliasesContent bool
	// KeepJoinAuthorisedVia: m.room.member keeps join_authorised_via_users_server (v9+).
	KeepJoinAuthorisedVia bool
	// KeepAllowRule: m.room.join_rules keeps "allow" (v8+).
	KeepAllowRule bool
	// V11: the v11 changes: create keeps all content, power levels keep
	// "invite", redaction keeps "redacts", top-level origin/membership/
	// prev_state removed.
	V11 bool
}

var roomVersions = buildRoomVersions()

// buildRoomVersions lists each version as the changes from the one before it.
func buildRoomVersions() map[string]*RoomVersion {
	versions := map[string]*RoomVersion{}
	base := RoomVersion{EventFormat: 1, StateRes: 1, SpecialCaseAliases: true,
		RedactionRules: RedactionRules{KeepAliasesContent: true}}
	add := func(id string, change func(v *RoomVersion)) {
		v := base
		v.ID = id
		change(&v)
		versions[id] = &v
		base = v
	}
	add("1", func(v *RoomVersion) {})
	add("2", func(v *RoomVersion) { v.StateRes = 2 })
	add("3", func(v *RoomVersion) { v.EventFormat = 2 })
	add("4", func(v *RoomVersion) { v.EventFormat = 3 })
	add("5", func(v *RoomVersion) { v.EnforceKeyValidity = true })
	add("6", func(v *RoomVersion) {
		v.SpecialCaseAliases = false
		v.StrictCanonicalJSON = true
		v.NotificationsPowerLevels = true
		v.RedactionRules.KeepAliasesContent = false
	})
	add("7", func(v *RoomVersion) { v.Knock = true })
	add("8", func(v *RoomVersion) { v.Restricted = true; v.RedactionRules.KeepAllowRule = true })
	add("9", func(v *RoomVersion) { v.RedactionRules.KeepJoinAuthorisedVia = true })
	add("10", func(v *RoomVersion) { v.KnockRestricted = true; v.IntegerPowerLevels = true })
	add("11", func(v *RoomVersion) {
		v.CreatorInSender = true
		v.RedactsInContent = true
		v.RedactionRules.V11 = true
	})
	add("12", func(v *RoomVersion) { v.StateRes = 3; v.RoomIDFromCreate = true })
	return versions
}

// LookupRoomVersion returns the version's rules, or nil if unknown.
func LookupRoomVersion(id string) *RoomVersion { return roomVersions[id] }

// StableRoomVersions lists every supported version in numeric order.
func StableRoomVersions() []string {
	return []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"}
}
