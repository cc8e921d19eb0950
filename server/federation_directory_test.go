package main

import (
	"net/url"
	"strings"
	"testing"
)

// TestFederationDirectoryAndProfiles: bob@hs2 reads hs1's room directory
// (client /publicRooms?server= -> federation POST /publicRooms) and alice's
// profile (client /profile -> federation query/profile, cached briefly).
func TestFederationDirectoryAndProfiles(t *testing.T) {
	r := newSharedRoom(t, "12")
	lobby := r.hs1.call(t, "POST", "/_matrix/client/v3/createRoom", r.alice,
		`{"preset":"public_chat","visibility":"public","name":"Lobby","topic":"say hi"}`, 200)["room_id"].(string)
	server := url.QueryEscape(r.hs1.ServerName)

	rooms := func(resp map[string]any) []string {
		var out []string
		chunk, _ := resp["chunk"].([]any)
		for _, c := range chunk {
			m, _ := c.(map[string]any)
			out = append(out, m["room_id"].(string)+"/"+m["name"].(string))
		}
		return strings.Split(strings.Join(out, ","), ",")
	}
	cases := []struct {
		name, method, path, body string
		want                     string
	}{
		{"GET", "GET", "/_matrix/client/v3/publicRooms?server=" + server, "", lobby + "/Lobby"},
		{"POST with a matching term", "POST", "/_matrix/client/v3/publicRooms?server=" + server, `{"filter":{"generic_search_term":"LOB"}}`, lobby + "/Lobby"},
		{"POST with another term", "POST", "/_matrix/client/v3/publicRooms?server=" + server, `{"filter":{"generic_search_term":"zzz"}}`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := rooms(r.hs2.call(t, tc.method, tc.path, r.bob, tc.body, 200))
			if strings.Join(got, ",") != tc.want {
				t.Fatalf("chunk %v, want %q", got, tc.want)
			}
		})
	}
	t.Run("unauthenticated federation request", func(t *testing.T) {
		status, resp := fedRequest(t, r.ca, "GET", "https://"+r.hs1.ServerName+"/_matrix/federation/v1/publicRooms", "", nil)
		if status != 401 || resp["errcode"] != "M_UNAUTHORIZED" {
			t.Fatalf("%d %v", status, resp)
		}
	})
	t.Run("unreachable server", func(t *testing.T) {
		code, _ := r.hs2.do(t, "GET", "/_matrix/client/v3/publicRooms?server=127.0.0.9:1", r.bob, nil)
		if code < 500 {
			t.Fatalf("status %d, want a 5xx", code)
		}
	})

	aliceID := url.PathEscape("@alice:" + r.hs1.ServerName)
	r.hs1.call(t, "PUT", "/_matrix/client/v3/profile/"+aliceID+"/displayname", r.alice, `{"displayname":"Alice A"}`, 200)
	profiles := []struct {
		name, path string
		status     int
		field      string
		want       string
	}{
		{"whole profile", "/_matrix/client/v3/profile/" + aliceID, 200, "displayname", "Alice A"},
		{"displayname", "/_matrix/client/v3/profile/" + aliceID + "/displayname", 200, "displayname", "Alice A"},
		{"unset avatar", "/_matrix/client/v3/profile/" + aliceID + "/avatar_url", 404, "errcode", "M_NOT_FOUND"},
		{"unknown remote user", "/_matrix/client/v3/profile/" + url.PathEscape("@nobody:"+r.hs1.ServerName), 404, "errcode", "M_NOT_FOUND"},
	}
	for _, tc := range profiles {
		t.Run(tc.name, func(t *testing.T) {
			resp := r.hs2.call(t, "GET", tc.path, r.bob, "", tc.status)
			if resp[tc.field] != tc.want {
				t.Fatalf("%v, want %s=%q", resp, tc.field, tc.want)
			}
		})
	}
	// Within the cache's lifetime a change is not seen yet.
	r.hs1.call(t, "PUT", "/_matrix/client/v3/profile/"+aliceID+"/displayname", r.alice, `{"displayname":"Alice B"}`, 200)
	if got := r.hs2.call(t, "GET", "/_matrix/client/v3/profile/"+aliceID, r.bob, "", 200)["displayname"]; got != "Alice A" {
		t.Errorf("cached profile: %v", got)
	}
}
