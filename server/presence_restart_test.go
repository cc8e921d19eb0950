package main

import (
	"context"
	"net/url"
	"testing"

	"maunium.net/go/mautrix"

	"github.com/kabarchat/kabar/models/store/storetest"
)

// TestPresenceSurvivesRestart: a status message set before a restart is
// still there after it, in GET /presence and in /sync (an initial sync and
// one from a token of before the restart); the user, online before, comes
// back unavailable until a client of theirs syncs again.
func TestPresenceSurvivesRestart(t *testing.T) {
	for _, db := range storetest.URLs(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			dataDir := t.TempDir()
			ts, stop := startStoppable(t, db.URL, dataDir)
			alice, bob := registerClient(t, ts, "alice"), registerClient(t, ts, "bob")
			room, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "public_chat"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := bob.JoinRoom(ctx, room.RoomID.String(), nil); err != nil {
				t.Fatal(err)
			}
			path := "/_matrix/client/v3/presence/" + url.PathEscape(alice.UserID.String()) + "/status"
			if st := jsonDo(t, ts, "PUT", path, alice.AccessToken, `{"presence":"online","status_msg":"in a meeting"}`, nil); st != 200 {
				t.Fatalf("PUT presence: %d", st)
			}
			var before struct {
				NextBatch string `json:"next_batch"`
			}
			if st := jsonDo(t, ts, "GET", "/_matrix/client/v3/sync?set_presence=offline", bob.AccessToken, "", &before); st != 200 {
				t.Fatalf("sync before restart: %d", st)
			}
			stop()

			ts, _ = startStoppable(t, db.URL, dataDir)
			var got presenceStatus
			if st := jsonDo(t, ts, "GET", path, bob.AccessToken, "", &got); st != 200 {
				t.Fatalf("GET presence after restart: %d", st)
			}
			if got.Presence != "unavailable" || got.StatusMsg == nil || *got.StatusMsg != "in a meeting" || got.LastActiveAgo == nil {
				t.Errorf("after restart: %+v", got)
			}
			for _, since := range []string{"", before.NextBatch} {
				var resp struct {
					Presence struct {
						Events []struct {
							Sender  string         `json:"sender"`
							Content presenceStatus `json:"content"`
						} `json:"events"`
					} `json:"presence"`
				}
				q := "/_matrix/client/v3/sync?set_presence=offline&since=" + url.QueryEscape(since)
				if st := jsonDo(t, ts, "GET", q, bob.AccessToken, "", &resp); st != 200 {
					t.Fatalf("sync since %q after restart: %d", since, st)
				}
				seen := false
				for _, ev := range resp.Presence.Events {
					c := ev.Content
					seen = seen || (ev.Sender == alice.UserID.String() && c.Presence == "unavailable" && c.StatusMsg != nil && *c.StatusMsg == "in a meeting")
				}
				if !seen {
					t.Errorf("sync since %q after restart: no presence of alice with her status: %+v", since, resp.Presence.Events)
				}
			}

			// alice's client syncs again: online, status kept.
			if st := jsonDo(t, ts, "GET", "/_matrix/client/v3/sync", alice.AccessToken, "", nil); st != 200 {
				t.Fatalf("alice sync: %d", st)
			}
			if st := jsonDo(t, ts, "GET", path, bob.AccessToken, "", &got); st != 200 || got.Presence != "online" || got.StatusMsg == nil || *got.StatusMsg != "in a meeting" {
				t.Errorf("after alice synced: %d %+v", st, got)
			}
		})
	}
}
