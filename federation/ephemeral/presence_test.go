package ephemeral

import (
	"context"
	"slices"
	"testing"

	"github.com/kabarchat/kabar/models/spec"
)

func TestPresencePublisher(t *testing.T) {
	msg := "lunch"
	peers := []string{"@a:here", "@b:here", "@c:one", "@d:one", "@e:two"}
	cases := []struct {
		name      string
		update    PresenceUpdate
		peers     []string
		wantEDU   string
		wantDests []spec.ServerName
	}{
		{"local user to each remote server once",
			PresenceUpdate{UserID: "@a:here", Presence: "unavailable", LastActiveAgo: 5, StatusMsg: &msg}, peers,
			`{"edu_type":"m.presence","content":{"push":[{"user_id":"@a:here","presence":"unavailable","last_active_ago":5,"status_msg":"lunch","currently_active":false}]}}`,
			[]spec.ServerName{"one", "two"}},
		{"remote user's presence is not relayed", PresenceUpdate{UserID: "@c:one", Presence: "online"}, peers, "", nil},
		{"only local peers", PresenceUpdate{UserID: "@a:here", Presence: "online"}, []string{"@a:here", "@b:here"}, "", nil},
		{"bad user ID", PresenceUpdate{UserID: "nope", Presence: "online"}, peers, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := &queued{}
			(&PresencePublisher{ServerName: "here", Queue: q}).Publish(context.Background(), tc.update, tc.peers)
			if tc.wantEDU == "" {
				if len(q.edus) != 0 {
					t.Fatalf("sent %v", q.edus)
				}
				return
			}
			if len(q.edus) != 1 || q.edus[0] != tc.wantEDU || !slices.Equal(q.dests[0], tc.wantDests) {
				t.Fatalf("sent %v to %v", q.edus, q.dests)
			}
		})
	}
}
