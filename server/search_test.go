package main

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/kabarchat/kabar/configs"
)

type searchResp struct {
	SearchCategories struct {
		RoomEvents struct {
			Count      int      `json:"count"`
			Highlights []string `json:"highlights"`
			Results    []struct {
				Rank   float64 `json:"rank"`
				Result struct {
					EventID string `json:"event_id"`
					RoomID  string `json:"room_id"`
				} `json:"result"`
				Context *struct {
					EventsBefore []json.RawMessage `json:"events_before"`
					EventsAfter  []json.RawMessage `json:"events_after"`
					ProfileInfo  map[string]any    `json:"profile_info"`
				} `json:"context"`
			} `json:"results"`
			State     map[string][]json.RawMessage                     `json:"state"`
			Groups    map[string]map[string]struct{ Results []string } `json:"groups"`
			NextBatch string                                           `json:"next_batch"`
		} `json:"room_events"`
	} `json:"search_categories"`
}

func doSearch(t *testing.T, ts *testServer, token, nextBatch, body string) searchResp {
	t.Helper()
	path := "/_matrix/client/v3/search"
	if nextBatch != "" {
		path += "?next_batch=" + url.QueryEscape(nextBatch)
	}
	code, data := ts.do(t, "POST", path, token, strings.NewReader(body))
	if code != 200 {
		t.Fatalf("search %s: %d %s", body, code, data)
	}
	var r searchResp
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func sendText(t *testing.T, cli *mautrix.Client, room id.RoomID, body string) id.EventID {
	t.Helper()
	resp, err := cli.SendMessageEvent(context.Background(), room, event.EventMessage, map[string]any{"msgtype": "m.text", "body": body})
	if err != nil {
		t.Fatal(err)
	}
	return resp.EventID
}

func TestSearchRoomEvents(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		alice, bob := registerClient(t, ts, "alice"), registerClient(t, ts, "bob")
		shared, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "public_chat"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bob.JoinRoomByID(ctx, shared.RoomID); err != nil {
			t.Fatal(err)
		}
		secret, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", Name: "Cake planning"})
		if err != nil {
			t.Fatal(err)
		}
		best := sendText(t, alice, shared.RoomID, "cake cake cake, the cake is a lie")
		for i := range 5 {
			sendText(t, bob, shared.RoomID, "I would like some cake please number "+string(rune('a'+i)))
		}
		newest := sendText(t, alice, shared.RoomID, "one more cake")
		sendText(t, alice, secret.RoomID, "secret cake recipe")
		sendText(t, alice, shared.RoomID, "nothing relevant here")

		// Rank: the message that says cake most often comes first.
		r := doSearch(t, ts, bob.AccessToken, "", `{"search_categories":{"room_events":{"search_term":"CAKE"}}}`).SearchCategories.RoomEvents
		if len(r.Results) == 0 || r.Results[0].Result.EventID != best.String() {
			t.Fatalf("rank order: %+v", r.Results)
		}
		if r.Count != 7 || len(r.Highlights) != 1 || r.Highlights[0] != "cake" {
			t.Errorf("count %d highlights %v", r.Count, r.Highlights)
		}
		// Recent: newest first; bob never sees alice's private room.
		body := `{"search_categories":{"room_events":{"search_term":"cake","order_by":"recent","filter":{"limit":3},"include_state":true,
			"event_context":{"before_limit":1,"after_limit":1,"include_profile":true},"groupings":{"group_by":[{"key":"sender"}]}}}}`
		r = doSearch(t, ts, bob.AccessToken, "", body).SearchCategories.RoomEvents
		if len(r.Results) != 3 || r.Results[0].Result.EventID != newest.String() || r.NextBatch == "" {
			t.Fatalf("recent order: %+v next %q", r.Results, r.NextBatch)
		}
		c := r.Results[0].Context
		if c == nil || len(c.EventsBefore) != 1 || len(c.EventsAfter) != 1 || c.ProfileInfo[alice.UserID.String()] == nil {
			t.Errorf("context: %+v", c)
		}
		if len(r.State[shared.RoomID.String()]) == 0 || len(r.Groups["sender"]) == 0 {
			t.Errorf("state %d rooms, groups %v", len(r.State), r.Groups)
		}
		seen := map[string]bool{}
		next := ""
		for range 10 {
			page := doSearch(t, ts, bob.AccessToken, next, body).SearchCategories.RoomEvents
			for _, res := range page.Results {
				if seen[res.Result.EventID] || res.Result.RoomID != shared.RoomID.String() {
					t.Fatalf("duplicate or unreadable result %+v", res.Result)
				}
				seen[res.Result.EventID] = true
			}
			if next = page.NextBatch; next == "" {
				break
			}
		}
		if len(seen) != 7 {
			t.Errorf("paged through %d results, want 7", len(seen))
		}
		// alice finds her private room by name and by message.
		r = doSearch(t, ts, alice.AccessToken, "", `{"search_categories":{"room_events":{"search_term":"planning","keys":["content.name"]}}}`).SearchCategories.RoomEvents
		if len(r.Results) != 1 || r.Results[0].Result.RoomID != secret.RoomID.String() {
			t.Errorf("name search: %+v", r.Results)
		}
		// Redacted events leave the index.
		if _, err := alice.RedactEvent(ctx, shared.RoomID, best); err != nil {
			t.Fatal(err)
		}
		r = doSearch(t, ts, bob.AccessToken, "", `{"search_categories":{"room_events":{"search_term":"lie"}}}`).SearchCategories.RoomEvents
		if len(r.Results) != 0 {
			t.Errorf("redacted event still found: %+v", r.Results)
		}
	})
}

func TestSearchBadInput(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		tok := ts.register(t, "alice", "correct horse")
		s := "/_matrix/client/v3/search"
		runErrCases(t, ts, []errCase{
			{"unknown category", "POST", s, tok, `{"search_categories":{"rooms":{}}}`, 400, "M_INVALID_PARAM"},
			{"no categories", "POST", s, tok, `{}`, 400, "M_MISSING_PARAM"},
			{"no term", "POST", s, tok, `{"search_categories":{"room_events":{}}}`, 400, "M_MISSING_PARAM"},
			{"bad key", "POST", s, tok, `{"search_categories":{"room_events":{"search_term":"x","keys":["content.x"]}}}`, 400, "M_INVALID_PARAM"},
			{"bad order", "POST", s, tok, `{"search_categories":{"room_events":{"search_term":"x","order_by":"best"}}}`, 400, "M_INVALID_PARAM"},
			{"bad group", "POST", s, tok, `{"search_categories":{"room_events":{"search_term":"x","groupings":{"group_by":[{"key":"type"}]}}}}`, 400, "M_INVALID_PARAM"},
			{"bad filter", "POST", s, tok, `{"search_categories":{"room_events":{"search_term":"x","filter":{"limit":"x"}}}}`, 400, "M_BAD_JSON"},
			{"bad term type", "POST", s, tok, `{"search_categories":{"room_events":{"search_term":5}}}`, 400, "M_BAD_JSON"},
			{"bad next_batch", "POST", s + "?next_batch=zzz", tok, `{"search_categories":{"room_events":{"search_term":"x"}}}`, 400, "M_INVALID_PARAM"},
			{"next_batch other order", "POST", s + "?next_batch=k10", tok, `{"search_categories":{"room_events":{"search_term":"x","order_by":"recent"}}}`, 400, "M_INVALID_PARAM"},
			{"not json", "POST", s, tok, `{`, 400, "M_NOT_JSON"},
			{"no token", "POST", s, "", `{}`, 401, "M_MISSING_TOKEN"},
			{"dir no term", "POST", "/_matrix/client/v3/user_directory/search", tok, `{}`, 400, "M_MISSING_PARAM"},
			{"dir bad limit", "POST", "/_matrix/client/v3/user_directory/search", tok, `{"search_term":"a","limit":-1}`, 400, "M_INVALID_PARAM"},
		})
	})
}

type dirResp struct {
	Results []struct {
		UserID      string `json:"user_id"`
		DisplayName string `json:"display_name"`
	} `json:"results"`
	Limited bool `json:"limited"`
}

func searchDir(t *testing.T, ts *testServer, token, body string) dirResp {
	t.Helper()
	code, data := ts.do(t, "POST", "/_matrix/client/v3/user_directory/search", token, strings.NewReader(body))
	if code != 200 {
		t.Fatalf("user directory: %d %s", code, data)
	}
	var r dirResp
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func dirIDs(r dirResp) string {
	var ids []string
	for _, u := range r.Results {
		ids = append(ids, u.UserID)
	}
	return strings.Join(ids, ",")
}

func TestUserDirectory(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		alice, bob := registerClient(t, ts, "alice"), registerClient(t, ts, "bob")
		carol, dave := registerClient(t, ts, "carol"), registerClient(t, ts, "dave")
		if err := bob.SetDisplayName(ctx, "Bobby Tables"); err != nil {
			t.Fatal(err)
		}
		// alice and bob share a private room; carol is in a public room;
		// dave is in no room.
		priv, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", Invite: []id.UserID{bob.UserID}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bob.JoinRoomByID(ctx, priv.RoomID); err != nil {
			t.Fatal(err)
		}
		if _, err := carol.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "public_chat", Visibility: "public"}); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name, token, body, want string
			limited                 bool
		}{
			{"display name, case-insensitive", alice.AccessToken, `{"search_term":"bobby"}`, "@bob:kabar.test", false},
			{"shared room", alice.AccessToken, `{"search_term":"kabar.test"}`, "@alice:kabar.test,@bob:kabar.test,@carol:kabar.test", false},
			{"no shared room", dave.AccessToken, `{"search_term":"bob"}`, "", false},
			{"public room", dave.AccessToken, `{"search_term":"CAROL"}`, "@carol:kabar.test", false},
			{"limited", alice.AccessToken, `{"search_term":"kabar","limit":1}`, "@alice:kabar.test", true},
			{"wildcards are literal", alice.AccessToken, `{"search_term":"%"}`, "", false},
		}
		for _, c := range cases {
			r := searchDir(t, ts, c.token, c.body)
			if got := dirIDs(r); got != c.want || r.Limited != c.limited {
				t.Errorf("%s: got %q limited=%v, want %q limited=%v", c.name, got, r.Limited, c.want, c.limited)
			}
		}
	})
	eachServer(t, func(c *configs.Config) { openRegistration(c); c.UserDirectory.SearchAllUsers = true }, func(t *testing.T, ts *testServer) {
		alice := registerClient(t, ts, "alice")
		registerClient(t, ts, "dave")
		if got := dirIDs(searchDir(t, ts, alice.AccessToken, `{"search_term":"dave"}`)); got != "@dave:kabar.test" {
			t.Errorf("search_all_users: got %q", got)
		}
	})
}
