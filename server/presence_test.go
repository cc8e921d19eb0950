package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/kabarchat/kabar/configs"
)

type presenceStatus struct {
	Presence        string  `json:"presence"`
	StatusMsg       *string `json:"status_msg"`
	LastActiveAgo   *int64  `json:"last_active_ago"`
	CurrentlyActive *bool   `json:"currently_active"`
}

// TestPresence: set and get, visibility to room peers only, presence in
// the peers' /sync, and the bad-input table.
func TestPresence(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		alice, bob, carol := registerClient(t, ts, "alice"), registerClient(t, ts, "bob"), registerClient(t, ts, "carol")
		room, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "public_chat"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bob.JoinRoom(ctx, room.RoomID.String(), nil); err != nil {
			t.Fatal(err)
		}
		base, err := bob.SyncRequest(ctx, 0, "", "", false, "")
		if err != nil {
			t.Fatal(err)
		}
		path := "/_matrix/client/v3/presence/" + alice.UserID.String() + "/status"
		if st := jsonDo(t, ts, "PUT", path, alice.AccessToken, `{"presence":"unavailable","status_msg":"lunch"}`, nil); st != 200 {
			t.Fatalf("PUT presence: %d", st)
		}
		var got presenceStatus
		if st := jsonDo(t, ts, "GET", path, bob.AccessToken, "", &got); st != 200 {
			t.Fatalf("GET presence as peer: %d", st)
		}
		if got.Presence != "unavailable" || got.StatusMsg == nil || *got.StatusMsg != "lunch" || got.LastActiveAgo == nil {
			t.Errorf("presence: %+v", got)
		}
		inc, err := bob.SyncRequest(ctx, 3000, base.NextBatch, "", false, "offline")
		if err != nil {
			t.Fatal(err)
		}
		var seen bool
		for _, ev := range inc.Presence.Events {
			raw, _ := json.Marshal(ev.Content.Raw)
			if ev.Sender == alice.UserID && strings.Contains(string(raw), `"status_msg":"lunch"`) {
				seen = true
			}
		}
		if !seen {
			t.Errorf("alice's presence not in bob's sync: %+v", inc.Presence.Events)
		}
		// carol shares no room with alice: no presence for her.
		cs, err := carol.SyncRequest(ctx, 0, "", "", false, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range cs.Presence.Events {
			if ev.Sender == alice.UserID {
				t.Error("carol sees alice's presence")
			}
		}
		// A sync without set_presence=offline marks the syncing user online.
		if _, err := carol.SyncRequest(ctx, 0, "", "", false, ""); err != nil {
			t.Fatal(err)
		}
		cpath := "/_matrix/client/v3/presence/" + carol.UserID.String() + "/status"
		if jsonDo(t, ts, "GET", cpath, carol.AccessToken, "", &got); got.Presence != "online" || got.CurrentlyActive == nil || !*got.CurrentlyActive {
			t.Errorf("carol after sync: %+v", got)
		}

		cases := []struct {
			name, method, path, token, body string
			status                          int
			errcode                         string
		}{
			{"set other user", "PUT", path, bob.AccessToken, `{"presence":"online"}`, 403, "M_FORBIDDEN"},
			{"bad state", "PUT", path, alice.AccessToken, `{"presence":"asleep"}`, 400, "M_INVALID_PARAM"},
			{"missing state", "PUT", path, alice.AccessToken, `{"status_msg":"x"}`, 400, "M_BAD_JSON"},
			{"not json", "PUT", path, alice.AccessToken, `{`, 400, "M_NOT_JSON"},
			{"stranger", "GET", path, carol.AccessToken, "", 403, "M_FORBIDDEN"},
			{"bad user id", "GET", "/_matrix/client/v3/presence/nope/status", alice.AccessToken, "", 400, "M_INVALID_PARAM"},
			{"bad set_presence", "GET", "/_matrix/client/v3/sync?set_presence=away", alice.AccessToken, "", 400, "M_INVALID_PARAM"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				var body *strings.Reader
				status, data := 0, []byte(nil)
				if tc.body != "" {
					body = strings.NewReader(tc.body)
					status, data = ts.do(t, tc.method, tc.path, tc.token, body)
				} else {
					status, data = ts.do(t, tc.method, tc.path, tc.token, nil)
				}
				var e struct{ Errcode string }
				json.Unmarshal(data, &e)
				if status != tc.status || e.Errcode != tc.errcode {
					t.Errorf("got %d %s, want %d %s: %s", status, e.Errcode, tc.status, tc.errcode, data)
				}
			})
		}
	})
}

// TestPresenceDisabled: with presence.enabled off the endpoints answer but
// nothing is tracked or sent.
func TestPresenceDisabled(t *testing.T) {
	eachServer(t, func(c *configs.Config) { openRegistration(c); c.Presence.Enabled = false }, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		alice, bob := registerClient(t, ts, "alice"), registerClient(t, ts, "bob")
		room, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", Invite: []id.UserID{bob.UserID}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bob.JoinRoom(ctx, room.RoomID.String(), nil); err != nil {
			t.Fatal(err)
		}
		path := "/_matrix/client/v3/presence/" + alice.UserID.String() + "/status"
		if st := jsonDo(t, ts, "PUT", path, alice.AccessToken, `{"presence":"online","status_msg":"hi"}`, nil); st != 200 {
			t.Fatalf("PUT presence: %d", st)
		}
		var got presenceStatus
		if jsonDo(t, ts, "GET", path, bob.AccessToken, "", &got); got.Presence != "offline" || got.StatusMsg != nil {
			t.Errorf("disabled presence answered %+v", got)
		}
		resp, err := bob.SyncRequest(ctx, 0, "", "", false, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Presence.Events) != 0 {
			t.Errorf("presence sent while disabled: %+v", resp.Presence.Events)
		}
	})
}
