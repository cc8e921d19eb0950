package main

import (
	"strings"
	"testing"
)

func TestAdminAPI(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		admin := adminToken(t, ts, "root")
		alice := ts.register(t, "alice", "a long password")
		const v1, v2 = "/_synapse/admin/v1", "/_synapse/admin/v2"
		runErrCases(t, ts, []errCase{
			{"non-admin list", "GET", v2 + "/users", alice, "", 403, "M_FORBIDDEN"},
			{"non-admin version", "GET", v1 + "/server_version", alice, "", 403, "M_FORBIDDEN"},
			{"non-admin synapse whois", "GET", v1 + "/whois/@root:kabar.test", alice, "", 403, "M_FORBIDDEN"},
			{"non-admin spec whois of other", "GET", "/_matrix/client/v3/admin/whois/@root:kabar.test", alice, "", 403, "M_FORBIDDEN"},
			{"no token", "GET", v2 + "/users", "", "", 401, "M_MISSING_TOKEN"},
			{"unknown user", "GET", v2 + "/users/@ghost:kabar.test", admin, "", 404, "M_NOT_FOUND"},
			{"remote user", "GET", v2 + "/users/@x:elsewhere.test", admin, "", 400, "M_INVALID_PARAM"},
			{"bad user id", "GET", v2 + "/users/nobody", admin, "", 400, "M_INVALID_PARAM"},
			{"bad from", "GET", v2 + "/users?from=-1", admin, "", 400, "M_INVALID_PARAM"},
			{"bad guests", "GET", v2 + "/users?guests=yes", admin, "", 400, "M_INVALID_PARAM"},
			{"put not json", "PUT", v2 + "/users/@bob:kabar.test", admin, "{", 400, "M_NOT_JSON"},
			{"put bad type", "PUT", v2 + "/users/@bob:kabar.test", admin, `{"admin":"yes"}`, 400, "M_BAD_JSON"},
			{"put weak password", "PUT", v2 + "/users/@bob:kabar.test", admin, `{"password":"x"}`, 400, "M_WEAK_PASSWORD"},
			{"demote self", "PUT", v2 + "/users/@root:kabar.test", admin, `{"admin":false}`, 400, "M_INVALID_PARAM"},
			{"reset unknown", "POST", v1 + "/reset_password/@ghost:kabar.test", admin, `{"new_password":"a long password"}`, 404, "M_NOT_FOUND"},
			{"reset missing", "POST", v1 + "/reset_password/@alice:kabar.test", admin, `{}`, 400, "M_MISSING_PARAM"},
			{"deactivate unknown", "POST", v1 + "/deactivate/@ghost:kabar.test", admin, `{}`, 404, "M_NOT_FOUND"},
			{"unknown room", "GET", v1 + "/rooms/!nope:kabar.test", admin, "", 404, "M_NOT_FOUND"},
			{"bad room id", "GET", v1 + "/rooms/nope", admin, "", 400, "M_INVALID_PARAM"},
		})
		expect := func(method, path, token, body string, status int, contains ...string) string {
			t.Helper()
			var r *strings.Reader
			if body != "" {
				r = strings.NewReader(body)
			}
			var code int
			var resp []byte
			if r != nil {
				code, resp = ts.do(t, method, path, token, r)
			} else {
				code, resp = ts.do(t, method, path, token, nil)
			}
			for _, c := range contains {
				if !strings.Contains(string(resp), c) {
					t.Fatalf("%s %s: %d %s, want %q", method, path, code, resp, c)
				}
			}
			if code != status {
				t.Fatalf("%s %s: %d %s, want %d", method, path, code, resp, status)
			}
			return string(resp)
		}
		expect("GET", v1+"/server_version", admin, "", 200, `"server_version":"Kabar `)
		expect("GET", v2+"/users", admin, "", 200, `"total":2`, `"name":"@alice:kabar.test"`)
		expect("GET", v2+"/users?limit=1", admin, "", 200, `"next_token":"1"`, `"name":"@alice:kabar.test"`)
		expect("GET", v2+"/users?name=ROO", admin, "", 200, `"total":1`, `"name":"@root:kabar.test"`)
		// Create bob (201), then change him (200).
		expect("PUT", v2+"/users/@bob:kabar.test", admin, `{"password":"bob password","displayname":"Bob"}`, 201,
			`"displayname":"Bob"`, `"admin":false`)
		bob := registeredTokenPW(t, ts, "bob", "bob password")
		expect("PUT", v2+"/users/@bob:kabar.test", admin, `{"admin":true,"displayname":"Robert"}`, 200, `"admin":true`, `"displayname":"Robert"`)
		// bob's cached session saw the promotion at once.
		expect("GET", v1+"/server_version", bob, "", 200)
		expect("GET", "/_matrix/client/v3/profile/@bob:kabar.test/displayname", "", "", 200, "Robert")
		// Reset alice's password: her token dies, the new password works.
		expect("POST", v1+"/reset_password/@alice:kabar.test", admin, `{"new_password":"new long password"}`, 200)
		expect("GET", "/_matrix/client/v3/account/whoami", alice, "", 401, "M_UNKNOWN_TOKEN")
		alice = registeredTokenPW(t, ts, "alice", "new long password")
		expect("GET", v1+"/whois/@alice:kabar.test", admin, "", 200, `"user_id":"@alice:kabar.test"`, `"connections"`)
		expect("GET", "/_matrix/client/v3/admin/whois/@alice:kabar.test", alice, "", 200, `"sessions"`)
		// Deactivate her: token dead, hidden from the default list.
		expect("POST", v1+"/deactivate/@alice:kabar.test", admin, `{"erase":false}`, 200, "id_server_unbind_result")
		expect("GET", "/_matrix/client/v3/account/whoami", alice, "", 401, "M_UNKNOWN_TOKEN")
		expect("GET", v2+"/users", admin, "", 200, `"total":2`)
		expect("GET", v2+"/users?deactivated=true", admin, "", 200, `"total":3`, `"deactivated":true`)
		expect("PUT", v2+"/users/@alice:kabar.test", admin, `{"deactivated":false}`, 400, "M_INVALID_PARAM")
		// Rooms.
		room := decode(t, []byte(expect("POST", "/_matrix/client/v3/createRoom", admin, `{"name":"Ops room"}`, 200)))["room_id"].(string)
		expect("GET", v1+"/rooms", admin, "", 200, `"total_rooms":1`, room, `"name":"Ops room"`, `"joined_local_members":1`)
		expect("GET", v1+"/rooms?search_term=ops", admin, "", 200, `"total_rooms":1`)
		expect("GET", v1+"/rooms?search_term=zzz", admin, "", 200, `"total_rooms":0`, `"rooms":[]`)
		expect("GET", v1+"/rooms/"+room, admin, "", 200, `"creator":"@root:kabar.test"`, `"state_events":`)
	})
}

func registeredTokenPW(t *testing.T, ts *testServer, user, pw string) string {
	t.Helper()
	code, body := ts.do(t, "POST", "/_matrix/client/v3/login", "", strings.NewReader(
		`{"type":"m.login.password","identifier":{"type":"m.id.user","user":"`+user+`"},"password":"`+pw+`"}`))
	if code != 200 {
		t.Fatalf("login %s: %d %s", user, code, body)
	}
	return decode(t, body)["access_token"].(string)
}
