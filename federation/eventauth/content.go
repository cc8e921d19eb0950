package eventauth

import (
	"encoding/json"
	"strings"
)

// memberContent is the part of m.room.member content the rules read.
type memberContent struct {
	Membership          *string
	JoinAuthorisedVia   *string
	HasThirdPartyInvite bool
	ThirdPartyInviteRaw json.RawMessage
}

// parseObject decodes a JSON object into its raw members; anything else
// yields an empty map so that missing-property rules apply.
func parseObject(data []byte) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil || m == nil {
		return map[string]json.RawMessage{}
	}
	return m
}

// stringField returns obj[key] when it is a JSON string.
func stringField(obj map[string]json.RawMessage, key string) (string, bool) {
	raw, ok := obj[key]
	if !ok {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

func parseMember(content []byte) memberContent {
	obj := parseObject(content)
	mc := memberContent{}
	if s, ok := stringField(obj, "membership"); ok {
		mc.Membership = &s
	}
	if s, ok := stringField(obj, "join_authorised_via_users_server"); ok {
		mc.JoinAuthorisedVia = &s
	}
	if raw, ok := obj["third_party_invite"]; ok {
		mc.HasThirdPartyInvite = true
		mc.ThirdPartyInviteRaw = raw
	}
	return mc
}

// membershipOf returns the membership of a member event, "leave" when there
// is none: a user without a member event has left (never joined) the room.
func membershipOf(ev Event) string {
	if ev == nil {
		return membershipLeave
	}
	if m := parseMember(ev.Content()).Membership; m != nil {
		return *m
	}
	return membershipLeave
}

// joinRuleOf returns the join rule in force. NOTSPEC: without an
// m.room.join_rules event the room behaves as "invite", as the client-server
// API's room creation presets and other servers assume.
func joinRuleOf(ev Event) string {
	if ev == nil {
		return joinRuleInvite
	}
	if s, ok := stringField(parseObject(ev.Content()), "join_rule"); ok {
		return s
	}
	return joinRuleInvite
}

// thirdPartyToken returns content.third_party_invite.signed.token, if any.
func thirdPartyToken(mc memberContent) (string, bool) {
	if !mc.HasThirdPartyInvite {
		return "", false
	}
	signed, ok := parseObject(mc.ThirdPartyInviteRaw)["signed"]
	if !ok {
		return "", false
	}
	return stringField(parseObject(signed), "token")
}

// serverOf returns the server part of a user, room or (v1, v2) event ID.
func serverOf(id string) string {
	if i := strings.IndexByte(id, ':'); i >= 0 {
		return id[i+1:]
	}
	return ""
}
