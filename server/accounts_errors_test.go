package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kabarchat/kabar/configs"
)

func openRegistration(c *configs.Config) {
	c.Registration.Mode = configs.RegistrationOpen
	c.Client.MaxRequestBytes = 4096
}

// register creates an account over raw HTTP and returns its access token.
func (ts *testServer) register(t *testing.T, user, password string) string {
	t.Helper()
	body := `{"username":"` + user + `","password":"` + password + `","auth":{"type":"m.login.dummy"}}`
	code, resp := ts.do(t, "POST", "/_matrix/client/v3/register", "", strings.NewReader(body))
	var r struct {
		AccessToken string `json:"access_token"`
	}
	if code != 200 || json.Unmarshal(resp, &r) != nil || r.AccessToken == "" {
		t.Fatalf("register %s: %d %s", user, code, resp)
	}
	return r.AccessToken
}

type errCase struct {
	name, method, path, token, body string
	status                          int
	errcode                         string
}

func runErrCases(t *testing.T, ts *testServer, cases []errCase) {
	t.Helper()
	for _, tc := range cases {
		var body *strings.Reader
		if tc.body != "" {
			body = strings.NewReader(tc.body)
		}
		var code int
		var resp []byte
		if body != nil {
			code, resp = ts.do(t, tc.method, tc.path, tc.token, body)
		} else {
			code, resp = ts.do(t, tc.method, tc.path, tc.token, nil)
		}
		var e struct{ Errcode string }
		json.Unmarshal(resp, &e)
		if code != tc.status || e.Errcode != tc.errcode {
			t.Errorf("%s: %s %s = %d %s, want %d %s", tc.name, tc.method, tc.path, code, resp, tc.status, tc.errcode)
		}
	}
}

func TestAccountErrors(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		tok := ts.register(t, "ann", "password1")
		const v3 = "/_matrix/client/v3"
		big := `{"username":"bob","password":"` + strings.Repeat("x", 5000) + `"}`
		runErrCases(t, ts, []errCase{
			{"not json", "POST", v3 + "/login", "", `{"type":`, 400, "M_NOT_JSON"},
			{"array body", "POST", v3 + "/login", "", `[1]`, 400, "M_BAD_JSON"},
			{"wrong type", "POST", v3 + "/login", "", `{"type":1}`, 400, "M_BAD_JSON"},
			{"missing type", "POST", v3 + "/login", "", `{"password":"x"}`, 400, "M_BAD_JSON"},
			{"duplicate key", "POST", v3 + "/login", "", `{"type":"m.login.password","type":"m.login.password"}`, 400, "M_NOT_JSON"},
			{"invalid utf8", "POST", v3 + "/login", "", "{\"type\":\"m.login.password\",\"user\":\"\xff\"}", 400, "M_NOT_JSON"},
			{"nul", "POST", v3 + "/login", "", `{"type":"m.login.password","user":"a\u0000"}`, 400, "M_NOT_JSON"},
			{"too large", "POST", v3 + "/register", "", big, 413, "M_TOO_LARGE"},
			{"unknown login type", "POST", v3 + "/login", "", `{"type":"m.login.foo"}`, 400, "M_UNKNOWN"},
			{"wrong password", "POST", v3 + "/login", "", `{"type":"m.login.password","identifier":{"type":"m.id.user","user":"ann"},"password":"nope"}`, 403, "M_FORBIDDEN"},
			{"unknown user", "POST", v3 + "/login", "", `{"type":"m.login.password","user":"zed","password":"password1"}`, 403, "M_FORBIDDEN"},
			{"remote user", "POST", v3 + "/login", "", `{"type":"m.login.password","user":"@ann:other.test","password":"password1"}`, 403, "M_FORBIDDEN"},
			{"bad login token", "POST", v3 + "/login", "", `{"type":"m.login.token","token":"nope"}`, 403, "M_FORBIDDEN"},
			{"jwt disabled", "POST", v3 + "/login", "", `{"type":"org.matrix.login.jwt","token":"x"}`, 400, "M_UNKNOWN"},
			{"no token", "GET", v3 + "/account/whoami", "", "", 401, "M_MISSING_TOKEN"},
			{"unknown token", "GET", v3 + "/account/whoami", "nope", "", 401, "M_UNKNOWN_TOKEN"},
			{"unknown query token", "GET", v3 + "/account/whoami?access_token=nope", "", "", 401, "M_UNKNOWN_TOKEN"},
			{"capabilities need auth", "GET", v3 + "/capabilities", "", "", 401, "M_MISSING_TOKEN"},
			{"invalid username", "POST", v3 + "/register", "", `{"username":"Ann!","password":"password1"}`, 400, "M_INVALID_USERNAME"},
			{"taken username", "POST", v3 + "/register", "", `{"username":"ann","password":"password1"}`, 400, "M_USER_IN_USE"},
			{"weak password", "POST", v3 + "/register", "", `{"username":"bob","password":"short"}`, 400, "M_WEAK_PASSWORD"},
			{"guest", "POST", v3 + "/register?kind=guest", "", `{}`, 403, "M_GUEST_ACCESS_FORBIDDEN"},
			{"bad kind", "POST", v3 + "/register?kind=robot", "", `{}`, 400, "M_INVALID_PARAM"},
			{"uia not offered", "POST", v3 + "/register", "", `{"username":"bob","password":"password1","auth":{"type":"m.login.password"}}`, 401, "M_INVALID_PARAM"},
			{"uia unknown session", "POST", v3 + "/register", "", `{"username":"bob","password":"password1","auth":{"type":"m.login.dummy","session":"nope"}}`, 400, "M_UNKNOWN"},
			{"auth wrong type", "POST", v3 + "/register", "", `{"username":"bob","password":"password1","auth":"x"}`, 400, "M_BAD_JSON"},
			{"no password", "POST", v3 + "/register", "", `{"username":"bob","auth":{"type":"m.login.dummy"}}`, 400, "M_BAD_JSON"},
			{"available taken", "GET", v3 + "/register/available?username=ann", "", "", 400, "M_USER_IN_USE"},
			{"available invalid", "GET", v3 + "/register/available?username=A%20B", "", "", 400, "M_INVALID_USERNAME"},
			{"available missing", "GET", v3 + "/register/available", "", "", 400, "M_MISSING_PARAM"},
			{"token validity off", "GET", "/_matrix/client/v1/register/m.login.registration_token/validity?token=x", "", "", 403, "M_FORBIDDEN"},
			{"refresh unknown", "POST", v3 + "/refresh", "", `{"refresh_token":"nope"}`, 401, "M_UNKNOWN_TOKEN"},
			{"refresh missing", "POST", v3 + "/refresh", "", `{}`, 400, "M_BAD_JSON"},
			{"unknown device", "GET", v3 + "/devices/NOPE", tok, "", 404, "M_NOT_FOUND"},
			{"escaped device id", "GET", v3 + "/devices/A%25B", tok, "", 404, "M_NOT_FOUND"},
			{"escaped slash device id", "GET", v3 + "/devices/A%2FB", tok, "", 404, "M_NOT_FOUND"},
			{"rename unknown device", "PUT", v3 + "/devices/NOPE", tok, `{"display_name":"x"}`, 404, "M_NOT_FOUND"},
			{"delete_devices missing", "POST", v3 + "/delete_devices", tok, `{}`, 400, "M_BAD_JSON"},
			{"delete_devices wrong type", "POST", v3 + "/delete_devices", tok, `{"devices":"A"}`, 400, "M_BAD_JSON"},
			{"other's displayname", "PUT", v3 + "/profile/@bob:kabar.test/displayname", tok, `{"displayname":"x"}`, 403, "M_FORBIDDEN"},
			{"displayname wrong type", "PUT", v3 + "/profile/@ann:kabar.test/displayname", tok, `{"displayname":5}`, 400, "M_BAD_JSON"},
			{"displayname missing", "PUT", v3 + "/profile/@ann:kabar.test/displayname", tok, `{}`, 400, "M_BAD_JSON"},
			{"avatar not mxc", "PUT", v3 + "/profile/@ann:kabar.test/avatar_url", tok, `{"avatar_url":"http://x"}`, 400, "M_INVALID_PARAM"},
			{"unknown profile", "GET", v3 + "/profile/@zed:kabar.test", "", "", 404, "M_NOT_FOUND"},
			{"bad user id", "GET", v3 + "/profile/zed", "", "", 400, "M_INVALID_PARAM"},
			{"unset avatar", "GET", v3 + "/profile/@ann:kabar.test/avatar_url", "", "", 404, "M_NOT_FOUND"},
			{"other's account data", "GET", v3 + "/user/@bob:kabar.test/account_data/m.x", tok, "", 403, "M_FORBIDDEN"},
			{"missing account data", "GET", v3 + "/user/@ann:kabar.test/account_data/m.x", tok, "", 404, "M_NOT_FOUND"},
			{"account data not object", "PUT", v3 + "/user/@ann:kabar.test/account_data/m.x", tok, `[1]`, 400, "M_BAD_JSON"},
			{"account data not json", "PUT", v3 + "/user/@ann:kabar.test/account_data/m.x", tok, `{`, 400, "M_NOT_JSON"},
			{"account data dup key", "PUT", v3 + "/user/@ann:kabar.test/account_data/m.x", tok, `{"a":1,"a":2}`, 400, "M_NOT_JSON"},
			{"fully_read", "PUT", v3 + "/user/@ann:kabar.test/account_data/m.fully_read", tok, `{}`, 405, "M_BAD_JSON"},
			{"push_rules", "PUT", v3 + "/user/@ann:kabar.test/rooms/!r:kabar.test/account_data/m.push_rules", tok, `{}`, 405, "M_BAD_JSON"},
			{"bad room id", "PUT", v3 + "/user/@ann:kabar.test/rooms/nope/account_data/m.x", tok, `{}`, 400, "M_INVALID_PARAM"},
			{"password uia wrong", "POST", v3 + "/account/password", tok, `{"new_password":"password2","auth":{"type":"m.login.password","user":"ann","password":"bad"}}`, 401, "M_FORBIDDEN"},
			{"password weak", "POST", v3 + "/account/password", tok, `{"new_password":"x"}`, 400, "M_WEAK_PASSWORD"},
			{"shared secret off", "GET", "/_synapse/admin/v1/register", "", "", 404, "M_UNRECOGNIZED"},
			{"custom profile key", "PUT", v3 + "/profile/@ann:kabar.test/m.tz", tok, `{}`, 404, "M_UNRECOGNIZED"},
		})
		// A UIA challenge without a failed stage carries no errcode.
		code, resp := ts.do(t, "POST", v3+"/register", "", strings.NewReader(`{"username":"bob"}`))
		var ch map[string]any
		json.Unmarshal(resp, &ch)
		if code != 401 || ch["session"] == nil || ch["flows"] == nil || ch["errcode"] != nil {
			t.Fatalf("uia challenge: %d %s", code, resp)
		}
	})
}

func TestRegistrationModes(t *testing.T) {
	eachServer(t, func(c *configs.Config) {
		c.Registration.Mode = configs.RegistrationToken
		c.Registration.Tokens = []string{"letmein"}
	}, func(t *testing.T, ts *testServer) {
		const v3 = "/_matrix/client/v3"
		runErrCases(t, ts, []errCase{
			{"dummy refused", "POST", v3 + "/register", "", `{"username":"bob","password":"password1","auth":{"type":"m.login.dummy"}}`, 401, "M_INVALID_PARAM"},
			{"bad token", "POST", v3 + "/register", "", `{"username":"bob","password":"password1","auth":{"type":"m.login.registration_token","token":"no"}}`, 401, "M_UNAUTHORIZED"},
			{"validity missing", "GET", "/_matrix/client/v1/register/m.login.registration_token/validity", "", "", 400, "M_MISSING_PARAM"},
		})
		code, resp := ts.do(t, "GET", "/_matrix/client/v1/register/m.login.registration_token/validity?token=letmein", "", nil)
		if code != 200 || !strings.Contains(string(resp), `"valid":true`) {
			t.Fatalf("validity: %d %s", code, resp)
		}
		code, resp = ts.do(t, "POST", v3+"/register", "", strings.NewReader(
			`{"username":"bob","password":"password1","inhibit_login":true,"auth":{"type":"m.login.registration_token","token":"letmein"}}`))
		if code != 200 || strings.Contains(string(resp), "access_token") {
			t.Fatalf("token registration: %d %s", code, resp)
		}
	})
	eachServer(t, nil, func(t *testing.T, ts *testServer) {
		runErrCases(t, ts, []errCase{
			{"disabled", "POST", "/_matrix/client/v3/register", "", `{"username":"bob","password":"password1"}`, 403, "M_FORBIDDEN"},
		})
	})
}
