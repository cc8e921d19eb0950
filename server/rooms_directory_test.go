package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
)

type publicRoomsPage struct {
	Chunk []struct {
		RoomID           string `json:"room_id"`
		Name             string `json:"name"`
		NumJoinedMembers int    `json:"num_joined_members"`
		WorldReadable    bool   `json:"world_readable"`
		GuestCanJoin     bool   `json:"guest_can_join"`
		JoinRule         string `json:"join_rule"`
		AvatarURL        string `json:"avatar_url"`
		CanonicalAlias   string `json:"canonical_alias"`
		RoomType         string `json:"room_type"`
	} `json:"chunk"`
	NextBatch string `json:"next_batch"`
	PrevBatch string `json:"prev_batch"`
	Total     int    `json:"total_room_count_estimate"`
}

func (p publicRoomsPage) names() string {
	var out []string
	for _, r := range p.Chunk {
		out = append(out, r.Name)
	}
	return strings.Join(out, ",")
}

// TestPublicRoomsPagingAndFilters: /publicRooms pages forward and back with
// next_batch/prev_batch, counts, filters by generic_search_term and
// room_types, and fills the PublishedRoomsChunk fields
// (list_public_rooms.yaml).
func TestPublicRoomsPagingAndFilters(t *testing.T) {
	eachServer(t, roomsMoreConfig, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		alice, bob := registerClient(t, ts, "alice"), registerClient(t, ts, "bob")
		for i, name := range []string{"Apples", "Bananas", "Cherries", "Dates", "Elderberries"} {
			req := &mautrix.ReqCreateRoom{Name: name, Preset: "public_chat", Visibility: "public", Topic: "fruit " + name}
			if i == 2 {
				req.RoomAliasName = "cherry"
				req.Topic = "stone fruit"
				req.InitialState = []*event.Event{
					{Type: event.StateRoomAvatar, Content: event.Content{Raw: map[string]any{"url": "mxc://kabar.test/c"}}},
					{Type: event.StateHistoryVisibility, Content: event.Content{Raw: map[string]any{"history_visibility": "world_readable"}}},
					{Type: event.StateGuestAccess, Content: event.Content{Raw: map[string]any{"guest_access": "can_join"}}}}
			}
			if i == 4 {
				req.CreationContent = map[string]any{"type": "m.space"}
			}
			room := mustCreate(t, alice, req)
			if i == 0 {
				if _, err := bob.JoinRoomByID(ctx, room); err != nil {
					t.Fatal(err)
				}
			}
		}
		get := func(method, query, body string) publicRoomsPage {
			var r *strings.Reader
			if body != "" {
				r = strings.NewReader(body)
			}
			var code int
			var resp []byte
			if r != nil {
				code, resp = ts.do(t, method, "/_matrix/client/v3/publicRooms"+query, alice.AccessToken, r)
			} else {
				code, resp = ts.do(t, method, "/_matrix/client/v3/publicRooms"+query, alice.AccessToken, nil)
			}
			var p publicRoomsPage
			if code != 200 || json.Unmarshal(resp, &p) != nil {
				t.Fatalf("%s publicRooms%s %s: %d %s", method, query, body, code, resp)
			}
			return p
		}
		// Room IDs are random, so the expected pages come from the full list.
		all := get("GET", "", "")
		if len(all.Chunk) != 5 || all.Total != 5 || all.NextBatch != "" || all.PrevBatch != "" {
			t.Fatalf("full list: %+v", all)
		}
		p1 := get("GET", "?limit=2", "")
		p2 := get("GET", "?limit=2&since="+p1.NextBatch, "")
		p3 := get("POST", "", `{"limit":2,"since":"`+p2.NextBatch+`"}`)
		back2 := get("GET", "?limit=2&since="+p3.PrevBatch, "")
		back1 := get("GET", "?limit=2&since="+back2.PrevBatch, "")
		pages := []struct {
			name       string
			p          publicRoomsPage
			from       int
			next, prev bool
		}{
			{"first", p1, 0, true, false}, {"second", p2, 2, true, true}, {"last", p3, 4, false, true},
			{"back to second", back2, 2, true, true}, {"back to first", back1, 0, true, false},
		}
		for _, pg := range pages {
			want := publicRoomsPage{Chunk: all.Chunk[pg.from:min(5, pg.from+2)]}
			if pg.p.names() != want.names() || (pg.p.NextBatch != "") != pg.next || (pg.p.PrevBatch != "") != pg.prev || pg.p.Total != 5 {
				t.Errorf("%s page: %s next=%q prev=%q total=%d, want %s", pg.name, pg.p.names(), pg.p.NextBatch, pg.p.PrevBatch, pg.p.Total, want.names())
			}
		}
		filters := []struct{ name, body, want string }{
			{"term in name", `{"filter":{"generic_search_term":"BANANA"}}`, "Bananas"},
			{"term in topic", `{"filter":{"generic_search_term":"stone"}}`, "Cherries"},
			{"term in alias", `{"filter":{"generic_search_term":"#cherry:"}}`, "Cherries"},
			{"space rooms", `{"filter":{"room_types":["m.space"]}}`, "Elderberries"},
			{"rooms without type, limited", `{"limit":1,"filter":{"room_types":[null],"generic_search_term":"dates"}}`, "Dates"},
			{"no match", `{"filter":{"generic_search_term":"kiwi"}}`, ""},
		}
		for _, f := range filters {
			if got := get("POST", "", f.body); got.names() != f.want || got.Total != len(got.Chunk) {
				t.Errorf("%s: %q total %d, want %q", f.name, got.names(), got.Total, f.want)
			}
		}
		for _, r := range all.Chunk {
			switch r.Name {
			case "Apples":
				if r.NumJoinedMembers != 2 || r.JoinRule != "public" || r.WorldReadable || r.GuestCanJoin {
					t.Errorf("Apples: %+v", r)
				}
			case "Cherries":
				if r.CanonicalAlias != "#cherry:kabar.test" || r.AvatarURL != "mxc://kabar.test/c" || !r.WorldReadable || !r.GuestCanJoin {
					t.Errorf("Cherries: %+v", r)
				}
			case "Elderberries":
				if r.RoomType != "m.space" {
					t.Errorf("Elderberries: %+v", r)
				}
			}
		}
	})
}
