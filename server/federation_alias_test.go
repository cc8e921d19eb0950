package main

import (
	"net/url"
	"testing"
)

// TestFederationRemoteAlias: bob@hs2 resolves hs1's aliases through the
// client directory (client GET /directory/room -> federation
// /query/directory); unknown aliases are 404, unreachable servers 502.
func TestFederationRemoteAlias(t *testing.T) {
	r := newSharedRoom(t, "12")
	alias := "#lobby:" + r.hs1.ServerName
	r.hs1.call(t, "PUT", "/_matrix/client/v3/directory/room/"+url.PathEscape(alias), r.alice,
		`{"room_id":"`+r.room+`"}`, 200)
	cases := []struct {
		name   string
		alias  string
		status int
		field  string
		want   any
	}{
		{"known remote alias", alias, 200, "room_id", r.room},
		{"unknown remote alias", "#nope:" + r.hs1.ServerName, 404, "errcode", "M_NOT_FOUND"},
		{"unreachable server", "#x:127.0.0.9:1", 502, "errcode", "M_UNKNOWN"},
		{"unknown local alias", "#nope:" + r.hs2.ServerName, 404, "errcode", "M_NOT_FOUND"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := r.hs2.call(t, "GET", "/_matrix/client/v3/directory/room/"+url.PathEscape(tc.alias), r.bob, "", tc.status)
			if resp[tc.field] != tc.want {
				t.Fatalf("%v, want %s=%v", resp, tc.field, tc.want)
			}
			if tc.status == 502 && resp["error"] != "could not reach 127.0.0.9:1" {
				t.Fatalf("error text %q leaks or changed", resp["error"])
			}
		})
	}
	resp := r.hs2.call(t, "GET", "/_matrix/client/v3/directory/room/"+url.PathEscape(alias), "", "", 200)
	servers, _ := resp["servers"].([]any)
	if len(servers) == 0 {
		t.Fatalf("servers missing: %v", resp)
	}
}
