package main

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kabarchat/kabar/configs"
	"github.com/kabarchat/kabar/models"
)

// adminToken registers name and makes it a server admin.
func adminToken(t *testing.T, ts *testServer, name string) string {
	t.Helper()
	tok := ts.register(t, name, "a long password")
	if err := ts.srv.store.SetUserAdmin(context.Background(), "@"+name+":kabar.test", true); err != nil {
		t.Fatal(err)
	}
	return tok
}

func decode(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("bad JSON %s: %v", body, err)
	}
	return m
}

// registerWithToken runs the m.login.registration_token flow; it returns
// the final status and body.
func registerWithToken(t *testing.T, ts *testServer, user, token string) (int, []byte) {
	t.Helper()
	const path = "/_matrix/client/v3/register"
	body := `{"username":"` + user + `","password":"a long password"}`
	code, resp := ts.do(t, "POST", path, "", strings.NewReader(body))
	session, _ := decode(t, resp)["session"].(string)
	if code != 401 || session == "" {
		t.Fatalf("challenge: %d %s", code, resp)
	}
	body = `{"username":"` + user + `","password":"a long password","auth":{"type":"m.login.registration_token","token":"` +
		token + `","session":"` + session + `"}}`
	return ts.do(t, "POST", path, "", strings.NewReader(body))
}

func TestRegistrationTokenAdmin(t *testing.T) {
	eachServer(t, func(c *configs.Config) {
		openRegistration(c)
		c.Registration.Mode = configs.RegistrationToken
	}, func(t *testing.T, ts *testServer) {
		const base = "/_synapse/admin/v1/registration_tokens"
		admin := bootstrapAdmin(t, ts)
		future := strconv.FormatInt(time.Now().Add(time.Hour).UnixMilli(), 10)
		past := strconv.FormatInt(time.Now().Add(-time.Hour).UnixMilli(), 10)
		runErrCases(t, ts, []errCase{
			{"no token", "GET", base, "", "", 401, "M_MISSING_TOKEN"},
			{"bad chars", "POST", base + "/new", admin, `{"token":"a b"}`, 400, "M_INVALID_PARAM"},
			{"too long", "POST", base + "/new", admin, `{"token":"` + strings.Repeat("a", 65) + `"}`, 400, "M_INVALID_PARAM"},
			{"negative uses", "POST", base + "/new", admin, `{"uses_allowed":-1}`, 400, "M_INVALID_PARAM"},
			{"string uses", "POST", base + "/new", admin, `{"uses_allowed":"2"}`, 400, "M_INVALID_PARAM"},
			{"past expiry", "POST", base + "/new", admin, `{"expiry_time":` + past + `}`, 400, "M_INVALID_PARAM"},
			{"length 0", "POST", base + "/new", admin, `{"length":0}`, 400, "M_INVALID_PARAM"},
			{"not json", "POST", base + "/new", admin, `{`, 400, "M_NOT_JSON"},
			{"unknown get", "GET", base + "/nope", admin, "", 404, "M_NOT_FOUND"},
			{"unknown put", "PUT", base + "/nope", admin, `{}`, 404, "M_NOT_FOUND"},
			{"unknown delete", "DELETE", base + "/nope", admin, "", 404, "M_NOT_FOUND"},
			{"bad valid", "GET", base + "?valid=maybe", admin, "", 400, "M_INVALID_PARAM"},
		})
		code, body := ts.do(t, "POST", base+"/new", admin, strings.NewReader(`{"length":20,"expiry_time":`+future+`}`))
		if m := decode(t, body); code != 200 || len(m["token"].(string)) != 20 || m["uses_allowed"] != nil {
			t.Fatalf("random token: %d %s", code, body)
		}
		code, body = ts.do(t, "POST", base+"/new", admin, strings.NewReader(`{"token":"abc-1","uses_allowed":2}`))
		if code != 200 || !strings.Contains(string(body), `"pending":0,"completed":0`) {
			t.Fatalf("create: %d %s", code, body)
		}
		if code, body := ts.do(t, "POST", base+"/new", admin, strings.NewReader(`{"token":"abc-1"}`)); code != 400 || !strings.Contains(string(body), "M_INVALID_PARAM") {
			t.Fatalf("duplicate: %d %s", code, body)
		}
		validity := func(tok string) string {
			_, body := ts.do(t, "GET", "/_matrix/client/v1/register/m.login.registration_token/validity?token="+tok, "", nil)
			return string(body)
		}
		if v := validity("abc-1"); !strings.Contains(v, "true") {
			t.Fatalf("validity: %s", v)
		}
		for i, user := range []string{"u1", "u2"} {
			if code, body := registerWithToken(t, ts, user, "abc-1"); code != 200 {
				t.Fatalf("register %d: %d %s", i, code, body)
			}
		}
		code, body = ts.do(t, "GET", base+"/abc-1", admin, nil)
		if code != 200 || !strings.Contains(string(body), `"pending":0,"completed":2`) {
			t.Fatalf("after use: %d %s", code, body)
		}
		if v := validity("abc-1"); !strings.Contains(v, "false") {
			t.Fatalf("used-up token still valid: %s", v)
		}
		if code, body := registerWithToken(t, ts, "u3", "abc-1"); code != 401 || !strings.Contains(string(body), "M_UNAUTHORIZED") {
			t.Fatalf("third use: %d %s", code, body)
		}
		// Raising the limit revives it; valid=false lists the used-up ones.
		_, body = ts.do(t, "GET", base+"?valid=false", admin, nil)
		if !strings.Contains(string(body), "abc-1") {
			t.Fatalf("valid=false: %s", body)
		}
		code, body = ts.do(t, "PUT", base+"/abc-1", admin, strings.NewReader(`{"uses_allowed":null,"expiry_time":`+future+`}`))
		if code != 200 || !strings.Contains(string(body), `"uses_allowed":null`) || !strings.Contains(string(body), future) {
			t.Fatalf("update: %d %s", code, body)
		}
		if code, body := registerWithToken(t, ts, "u3", "abc-1"); code != 200 {
			t.Fatalf("after raise: %d %s", code, body)
		}
		if code, _ := ts.do(t, "DELETE", base+"/abc-1", admin, nil); code != 200 {
			t.Fatalf("delete: %d", code)
		}
		if v := validity("abc-1"); !strings.Contains(v, "false") {
			t.Fatalf("deleted token still valid: %s", v)
		}
		// A token may be called "new", like the creation path.
		if code, body := ts.do(t, "POST", base+"/new", admin, strings.NewReader(`{"token":"new","uses_allowed":1}`)); code != 200 {
			t.Fatalf("create new: %d %s", code, body)
		}
		if code, body := ts.do(t, "GET", base+"/new", admin, nil); code != 200 || !strings.Contains(string(body), `"uses_allowed":1`) {
			t.Fatalf("get new: %d %s", code, body)
		}
		if code, _ := ts.do(t, "DELETE", base+"/new", admin, nil); code != 200 {
			t.Fatalf("delete new: %d", code)
		}
		// Non-admins are refused.
		if code, body := ts.do(t, "GET", base, registeredToken(t, ts, "u3"), nil); code != 403 || !strings.Contains(string(body), "M_FORBIDDEN") {
			t.Fatalf("non-admin: %d %s", code, body)
		}
	})
}

// bootstrapAdmin creates an admin with a DB token made through the store.
func bootstrapAdmin(t *testing.T, ts *testServer) string {
	t.Helper()
	if err := ts.srv.store.CreateRegistrationToken(context.Background(), &models.RegistrationToken{Token: "boot"}); err != nil {
		t.Fatal(err)
	}
	code, body := registerWithToken(t, ts, "root", "boot")
	if code != 200 {
		t.Fatalf("bootstrap: %d %s", code, body)
	}
	if err := ts.srv.store.SetUserAdmin(context.Background(), "@root:kabar.test", true); err != nil {
		t.Fatal(err)
	}
	return decode(t, body)["access_token"].(string)
}

// registeredToken logs in an existing user with the test password.
func registeredToken(t *testing.T, ts *testServer, user string) string {
	t.Helper()
	code, body := ts.do(t, "POST", "/_matrix/client/v3/login", "", strings.NewReader(
		`{"type":"m.login.password","identifier":{"type":"m.id.user","user":"`+user+`"},"password":"a long password"}`))
	if code != 200 {
		t.Fatalf("login %s: %d %s", user, code, body)
	}
	return decode(t, body)["access_token"].(string)
}
