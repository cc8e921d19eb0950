package push

import "encoding/json"

// Raw JSON building blocks of the predefined rules.
var (
	actNotify       = json.RawMessage(`"notify"`)
	actSoundDefault = json.RawMessage(`{"set_tweak":"sound","value":"default"}`)
	actSoundRing    = json.RawMessage(`{"set_tweak":"sound","value":"ring"}`)
	actHighlight    = json.RawMessage(`{"set_tweak":"highlight"}`)
)

func match(key, pattern string) Condition {
	return Condition{Kind: "event_match", Key: key, Pattern: &pattern}
}

func propIs(key, value string) Condition {
	return Condition{Kind: "event_property_is", Key: key, Value: json.RawMessage(value)}
}

func def(id string, enabled bool, conds []Condition, actions ...json.RawMessage) Rule {
	if actions == nil {
		actions = []json.RawMessage{}
	}
	return Rule{RuleID: id, Default: true, Enabled: enabled, Conditions: conds, Actions: actions}
}

// Defaults returns the server-default rules for userID, exactly the
// spec's list in its order (push.md "Predefined Rules", v1.17: the legacy
// body-mention rules are gone, so there are no default content rules).
func Defaults(userID string) Ruleset {
	uid, _ := json.Marshal(userID)
	return Ruleset{
		Override: []Rule{
			def(".m.rule.master", false, nil),
			def(".m.rule.suppress_notices", true, []Condition{match("content.msgtype", "m.notice")}),
			def(".m.rule.invite_for_me", true, []Condition{
				match("type", "m.room.member"), match("content.membership", "invite"), match("state_key", userID),
			}, actNotify, actSoundDefault),
			def(".m.rule.member_event", true, []Condition{match("type", "m.room.member")}),
			def(".m.rule.is_user_mention", true, []Condition{
				{Kind: "event_property_contains", Key: `content.m\.mentions.user_ids`, Value: uid},
			}, actNotify, actSoundDefault, actHighlight),
			def(".m.rule.is_room_mention", true, []Condition{
				propIs(`content.m\.mentions.room`, "true"),
				{Kind: "sender_notification_permission", Key: "room"},
			}, actNotify, actHighlight),
			def(".m.rule.tombstone", true, []Condition{match("type", "m.room.tombstone"), match("state_key", "")}, actNotify, actHighlight),
			def(".m.rule.reaction", true, []Condition{match("type", "m.reaction")}),
			def(".m.rule.room.server_acl", true, []Condition{match("type", "m.room.server_acl"), match("state_key", "")}),
			def(".m.rule.suppress_edits", true, []Condition{propIs(`content.m\.relates_to.rel_type`, `"m.replace"`)}),
		},
		Content: []Rule{},
		Room:    []Rule{},
		Sender:  []Rule{},
		Underride: []Rule{
			def(".m.rule.call", true, []Condition{match("type", "m.call.invite")}, actNotify, actSoundRing),
			def(".m.rule.encrypted_room_one_to_one", true, []Condition{
				{Kind: "room_member_count", Is: "2"}, match("type", "m.room.encrypted"),
			}, actNotify, actSoundDefault),
			def(".m.rule.room_one_to_one", true, []Condition{
				{Kind: "room_member_count", Is: "2"}, match("type", "m.room.message"),
			}, actNotify, actSoundDefault),
			def(".m.rule.message", true, []Condition{match("type", "m.room.message")}, actNotify),
			def(".m.rule.encrypted", true, []Condition{match("type", "m.room.encrypted")}, actNotify),
		},
	}
}
