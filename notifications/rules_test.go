package notifications

import (
	"encoding/json"
	"testing"

	"github.com/kabarchat/kabar/models"
)

func TestAssembleOrder(t *testing.T) {
	off := false
	actions := `[]`
	rows := []models.PushRule{
		{Kind: "override", RuleID: "mine", Enabled: true, Conditions: `[]`, Actions: `["notify"]`},
		{Kind: "underride", RuleID: "low", Enabled: true, Conditions: `[]`, Actions: `[]`},
		{Kind: "room", RuleID: "!r:x", Enabled: true, Conditions: `[]`, Actions: `[]`},
	}
	defs := []models.PushRuleDefault{{Kind: "underride", RuleID: ".m.rule.message", Enabled: &off, Actions: &actions}}
	rs := assemble("@a:x", rows, defs)
	if rs.Override[0].RuleID != ".m.rule.master" || rs.Override[1].RuleID != "mine" || rs.Override[2].RuleID != ".m.rule.suppress_notices" {
		t.Errorf("override order: %s %s %s", rs.Override[0].RuleID, rs.Override[1].RuleID, rs.Override[2].RuleID)
	}
	if rs.Underride[0].RuleID != "low" || len(rs.Room) != 1 || rs.Content == nil || rs.Sender == nil {
		t.Errorf("underride/room/content: %+v", rs)
	}
	if m := rs.Find("underride", ".m.rule.message"); m == nil || m.Enabled || len(m.Actions) != 0 {
		t.Errorf("default change not applied: %+v", m)
	}
}

func TestValidatePusher(t *testing.T) {
	http := "http"
	cases := []struct {
		name string
		data string
		ok   bool
	}{
		{"good", `{"url":"https://push.example/_matrix/push/v1/notify"}`, true},
		{"format", `{"url":"http://push.example:8080/_matrix/push/v1/notify","format":"event_id_only"}`, true},
		{"wrong path", `{"url":"https://push.example/notify"}`, false},
		{"trailing slash", `{"url":"https://push.example/_matrix/push/v1/notify/"}`, false},
		{"no url", `{}`, false},
		{"url not string", `{"url":1}`, false},
		{"ftp", `{"url":"ftp://push.example/_matrix/push/v1/notify"}`, false},
		{"no host", `{"url":"https:///_matrix/push/v1/notify"}`, false},
		{"data not object", `[]`, false},
		{"format not string", `{"url":"https://p/_matrix/push/v1/notify","format":1}`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := Pusher{Kind: &http, AppID: "a", Pushkey: "k", AppDisplayName: "A", DeviceDisplayName: "D", Lang: "en", Data: json.RawMessage(tc.data)}
			if err := validatePusher(p); (err == nil) != tc.ok {
				t.Errorf("err = %v, want ok %v", err, tc.ok)
			}
		})
	}
}
