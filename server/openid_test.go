package main

import (
	"net/url"
	"testing"

	"github.com/kabarchat/kabar/models/store/storetest"
)

// TestOpenID: alice asks for a token (client request_token), a third party
// exchanges it on the federation listener (/openid/userinfo, unsigned) for
// her user ID; only her own user ID, only known tokens.
func TestOpenID(t *testing.T) {
	ca := newTestCA(t)
	for _, db := range storetest.URLs(t) {
		t.Run(db.Name, func(t *testing.T) {
			hs := startFedServer(t, ca, "127.0.0.2", db.URL)
			alice := hs.register(t, "alice", "password-alice")
			bob := hs.register(t, "bob", "password-bob")
			aliceID := "@alice:" + hs.ServerName
			path := "/_matrix/client/v3/user/" + url.PathEscape(aliceID) + "/openid/request_token"
			resp := hs.call(t, "POST", path, alice, `{}`, 200)
			token, _ := resp["access_token"].(string)
			if token == "" || resp["token_type"] != "Bearer" || resp["matrix_server_name"] != hs.ServerName || resp["expires_in"] != float64(3600) {
				t.Fatalf("token answer %v", resp)
			}
			bad := []struct {
				name, token, path, body string
				status                  int
				errcode                 string
			}{
				{"someone else's user ID", bob, path, `{}`, 403, "M_FORBIDDEN"},
				{"invalid user ID", alice, "/_matrix/client/v3/user/alice/openid/request_token", `{}`, 400, "M_INVALID_PARAM"},
				{"body not an object", alice, path, `[]`, 400, "M_BAD_JSON"},
				{"no token", "", path, `{}`, 401, "M_MISSING_TOKEN"},
			}
			for _, tc := range bad {
				t.Run(tc.name, func(t *testing.T) {
					if got := hs.call(t, "POST", tc.path, tc.token, tc.body, tc.status)["errcode"]; got != tc.errcode {
						t.Fatalf("errcode %v, want %s", got, tc.errcode)
					}
				})
			}
			userinfo := "https://" + hs.ServerName + "/_matrix/federation/v1/openid/userinfo"
			cases := []struct {
				name, query string
				status      int
				field, want string
			}{
				{"valid token", "?access_token=" + url.QueryEscape(token), 200, "sub", aliceID},
				{"unknown token", "?access_token=nope", 401, "errcode", "M_UNKNOWN_TOKEN"},
				{"missing token", "", 400, "errcode", "M_MISSING_PARAM"},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					status, body := fedRequest(t, ca, "GET", userinfo+tc.query, "", nil)
					if status != tc.status || body[tc.field] != tc.want {
						t.Fatalf("%d %v, want %d %s=%s", status, body, tc.status, tc.field, tc.want)
					}
				})
			}
		})
	}
}
