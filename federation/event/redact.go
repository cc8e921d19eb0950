package event

import "fmt"

// topLevelKeys are the keys redaction keeps before room version 11
// (rooms/fragments/v1-redactions, v6-redactions, v9-redactions).
var topLevelKeys = []string{
	"event_id", "type", "room_id", "sender", "state_key", "content", "hashes",
	"signatures", "depth", "prev_events", "prev_state", "auth_events",
	"origin", "origin_server_ts", "membership",
}

// topLevelKeysV11 drops origin, membership and prev_state
// (rooms/fragments/v11-redactions).
var topLevelKeysV11 = []string{
	"event_id", "type", "room_id", "sender", "state_key", "content", "hashes",
	"signatures", "depth", "prev_events", "auth_events", "origin_server_ts",
}

// redactObject applies the version's redaction algorithm and returns a new
// top-level map and content map; values that are kept are shared, never
// modified.
func redactObject(rv *RoomVersion, obj map[string]any) map[string]any {
	rules := rv.RedactionRules
	keep := topLevelKeys
	if rules.V11 {
		keep = topLevelKeysV11
	}
	out := make(map[string]any, len(keep))
	for _, k := range keep {
		if v, ok := obj[k]; ok {
			out[k] = v
		}
	}
	if content, ok := obj["content"].(map[string]any); ok {
		typ, _ := obj["type"].(string)
		out["content"] = redactContent(rules, typ, content)
	}
	return out
}

// redactContent keeps the content keys the algorithm allows for the type.
func redactContent(rules RedactionRules, typ string, content map[string]any) map[string]any {
	if typ == typeCreate && rules.V11 {
		return content // v11: m.room.create keeps all keys
	}
	out := map[string]any{}
	for _, k := range contentKeys(rules, typ) {
		if v, ok := content[k]; ok {
			out[k] = v
		}
	}
	// v11: m.room.member keeps third_party_invite.signed only.
	if typ == typeMember && rules.V11 {
		if tpi, ok := content["third_party_invite"].(map[string]any); ok {
			if signed, ok := tpi["signed"]; ok {
				out["third_party_invite"] = map[string]any{"signed": signed}
			}
		}
	}
	return out
}

func contentKeys(rules RedactionRules, typ string) []string {
	switch typ {
	case typeMember:
		if rules.KeepJoinAuthorisedVia {
			return []string{"membership", "join_authorised_via_users_server"}
		}
		return []string{"membership"}
	case typeCreate:
		return []string{"creator"}
	case typeJoinRules:
		if rules.KeepAllowRule {
			return []string{"join_rule", "allow"}
		}
		return []string{"join_rule"}
	case typePowerLevels:
		keys := []string{"ban", "events", "events_default", "kick", "redact", "state_default", "users", "users_default"}
		if rules.V11 {
			keys = append(keys, "invite")
		}
		return keys
	case typeAliases:
		if rules.KeepAliasesContent {
			return []string{"aliases"}
		}
	case typeHistoryVisibility:
		return []string{"history_visibility"}
	case typeRedaction:
		if rules.V11 {
			return []string{"redacts"}
		}
	}
	return nil
}

// Redact returns the redacted copy of the event under its room version's
// algorithm (the rooms/vN "Redactions" sections). The event ID is
// unchanged: it is derived from (or, in v1/v2, kept in) the redacted form.
func (e *Event) Redact() (*Event, error) {
	r, err := fromObject(e.rv, redactObject(e.rv, e.obj))
	if err != nil {
		return nil, fmt.Errorf("redact %s: %w", e.eventID, err)
	}
	return r, nil
}

// RedactJSON redacts an event given as JSON under rv's algorithm and
// returns canonical JSON. It works on partial objects (the appendix's test
// vectors are not full PDUs).
func RedactJSON(rv *RoomVersion, data []byte) ([]byte, error) {
	obj, err := decodeObject(rv, data)
	if err != nil {
		return nil, err
	}
	return encode(redactObject(rv, obj))
}

func decodeObject(rv *RoomVersion, data []byte) (map[string]any, error) {
	if rv == nil {
		return nil, ErrUnknownVersion
	}
	tree, err := decodeFor(rv, data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	obj, ok := tree.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	return obj, nil
}
