package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kabarchat/kabar/configs"
)

func jsonBody(v any) *bytes.Reader {
	b, _ := json.Marshal(v)
	return bytes.NewReader(b)
}

func macFor(secret, nonce, user, pw, admin string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(nonce + "\x00" + user + "\x00" + pw + "\x00" + admin))
	return hex.EncodeToString(m.Sum(nil))
}

func TestSharedSecretRegistration(t *testing.T) {
	const secret = "s3cret"
	eachServer(t, func(c *configs.Config) { c.Registration.SharedSecret = secret }, func(t *testing.T, ts *testServer) {
		nonce := func() string {
			_, body := ts.do(t, "GET", "/_synapse/admin/v1/register", "", nil)
			var r struct{ Nonce string }
			json.Unmarshal(body, &r)
			return r.Nonce
		}
		n := nonce()
		req := map[string]any{"nonce": n, "username": "root", "password": "pw", "admin": true,
			"mac": macFor(secret, n, "root", "pw", "notadmin")}
		if code, body := ts.do(t, "POST", "/_synapse/admin/v1/register", "", jsonBody(req)); code != 403 {
			t.Fatalf("bad mac: %d %s", code, body)
		}
		// The nonce was spent by the failed attempt.
		req["mac"] = macFor(secret, n, "root", "pw", "admin")
		if code, body := ts.do(t, "POST", "/_synapse/admin/v1/register", "", jsonBody(req)); code != 400 {
			t.Fatalf("reused nonce: %d %s", code, body)
		}
		n = nonce()
		req["nonce"], req["mac"] = n, macFor(secret, n, "root", "pw", "admin")
		code, body := ts.do(t, "POST", "/_synapse/admin/v1/register", "", jsonBody(req))
		var r struct {
			AccessToken string `json:"access_token"`
		}
		if json.Unmarshal(body, &r); code != 200 || r.AccessToken == "" {
			t.Fatalf("register: %d %s", code, body)
		}
		if code, body := ts.do(t, "GET", "/_matrix/client/v3/account/whoami", r.AccessToken, nil); code != 200 || !strings.Contains(string(body), "@root:kabar.test") {
			t.Fatalf("whoami: %d %s", code, body)
		}
	})
}

func TestJWTLoginAndLoginTokens(t *testing.T) {
	secret := "0123456789abcdef0123456789abcdef"
	eachServer(t, func(c *configs.Config) {
		c.Login.JWT = configs.JWT{Enabled: true, Secret: secret, Algorithms: []string{"HS256"},
			Issuer: "idp", SubjectClaim: "sub", AutoCreate: true}
	}, func(t *testing.T, ts *testServer) {
		const v3 = "/_matrix/client/v3"
		sign := func(claims jwt.MapClaims) string {
			s, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
			return s
		}
		exp := time.Now().Add(time.Hour).Unix()
		good := sign(jwt.MapClaims{"sub": "dana", "iss": "idp", "exp": exp})
		code, body := ts.do(t, "POST", v3+"/login", "", jsonBody(map[string]any{"type": "org.matrix.login.jwt", "token": good}))
		var r struct {
			AccessToken string `json:"access_token"`
		}
		if json.Unmarshal(body, &r); code != 200 || r.AccessToken == "" {
			t.Fatalf("jwt login: %d %s", code, body)
		}
		expired := sign(jwt.MapClaims{"sub": "dana", "iss": "idp", "exp": time.Now().Add(-time.Hour).Unix()})
		runErrCases(t, ts, []errCase{
			{"expired jwt", "POST", v3 + "/login", "", `{"type":"org.matrix.login.jwt","token":"` + expired + `"}`, 403, "M_FORBIDDEN"},
			{"password-less user", "POST", v3 + "/login", "", `{"type":"m.login.password","user":"dana","password":""}`, 403, "M_FORBIDDEN"},
		})
		if _, body := ts.do(t, "GET", v3+"/login", "", nil); !strings.Contains(string(body), "org.matrix.login.jwt") {
			t.Fatalf("login flows: %s", body)
		}
		// m.login.token: mint with get_token (dummy UIA for a password-less
		// account), redeem once.
		code, body = ts.do(t, "POST", "/_matrix/client/v1/login/get_token", r.AccessToken, jsonBody(map[string]any{"auth": map[string]any{"type": "m.login.dummy"}}))
		var lt struct {
			LoginToken string `json:"login_token"`
		}
		if json.Unmarshal(body, &lt); code != 200 || lt.LoginToken == "" {
			t.Fatalf("get_token: %d %s", code, body)
		}
		tokLogin := `{"type":"m.login.token","token":"` + lt.LoginToken + `"}`
		if code, body := ts.do(t, "POST", v3+"/login", "", strings.NewReader(tokLogin)); code != 200 {
			t.Fatalf("token login: %d %s", code, body)
		}
		runErrCases(t, ts, []errCase{{"login token reuse", "POST", v3 + "/login", "", tokLogin, 403, "M_FORBIDDEN"}})
		// logout/all kills every session.
		if code, _ := ts.do(t, "POST", v3+"/logout/all", r.AccessToken, nil); code != 200 {
			t.Fatal("logout/all failed")
		}
		runErrCases(t, ts, []errCase{{"after logout/all", "GET", v3 + "/account/whoami", r.AccessToken, "", 401, "M_UNKNOWN_TOKEN"}})
	})
}

func TestDeactivation(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		const v3 = "/_matrix/client/v3"
		tok := ts.register(t, "eve", "password1")
		body := `{"auth":{"type":"m.login.password","identifier":{"type":"m.id.user","user":"eve"},"password":"password1"}}`
		if code, resp := ts.do(t, "POST", v3+"/account/deactivate", tok, strings.NewReader(body)); code != 200 {
			t.Fatalf("deactivate: %d %s", code, resp)
		}
		runErrCases(t, ts, []errCase{
			{"token after deactivation", "GET", v3 + "/account/whoami", tok, "", 401, "M_UNKNOWN_TOKEN"},
			{"login after deactivation", "POST", v3 + "/login", "", `{"type":"m.login.password","user":"eve","password":"password1"}`, 403, "M_FORBIDDEN"},
			{"id never reused", "POST", v3 + "/register", "", `{"username":"eve","password":"password1","auth":{"type":"m.login.dummy"}}`, 400, "M_USER_IN_USE"},
		})
	})
}

func TestCreateUserCommand(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("KABAR_DATA_DIR", dir)
	t.Setenv("KABAR_SERVER_NAME", "kabar.test")
	t.Setenv("KABAR_PASSWORD", "")
	var out, errOut bytes.Buffer
	err := createUserCmd(context.Background(), []string{"--admin", "root"}, strings.NewReader("a long password\n"), &out, &errOut)
	if err != nil || !strings.Contains(out.String(), "@root:kabar.test") {
		t.Fatalf("create-user: %v %s %s", err, out.String(), errOut.String())
	}
	err = createUserCmd(context.Background(), []string{"root"}, strings.NewReader("a long password\n"), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "M_USER_IN_USE") {
		t.Fatalf("duplicate create-user: %v", err)
	}
	t.Setenv("KABAR_PASSWORD", "short")
	if err := createUserCmd(context.Background(), []string{"bob"}, strings.NewReader(""), &out, &errOut); err == nil {
		t.Fatal("weak password accepted")
	}
}
