package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kabarchat/kabar/configs"
)

const (
	asToken = "as_secret_token_for_tests"
	hsToken = "hs_secret_token_for_tests"
)

// fakeAppService is a real HTTP application service: it records the
// transactions it accepts, can refuse them with 500 for a while, and
// answers user queries for @_bridge_known*.
type fakeAppService struct {
	srv *httptest.Server
	mu  sync.Mutex
	// failing transactions answer 500 while > 0 (counting down) or < 0
	// (forever).
	failing int
	// attempts are every transaction ID tried, in order.
	attempts []string
	// accepted are the accepted transactions' IDs and event bodies.
	accepted []asTxn
	pings    []string
	queried  []string
	badAuth  int
	// hsToken is the token it expects (hsToken unless a test sets another).
	hsToken string
}

type asTxn struct {
	ID     string
	Events []map[string]any
	// Ephemeral and Unstable are the stable and MSC2409 ephemeral lists.
	Ephemeral, Unstable []map[string]any
}

func newFakeAppService(t *testing.T) *fakeAppService {
	f := &fakeAppService{hsToken: hsToken}
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /_matrix/app/v1/transactions/{txn}", f.authed(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Events    []map[string]any `json:"events"`
			Ephemeral []map[string]any `json:"ephemeral"`
			Unstable  []map[string]any `json:"de.sorunome.msc2409.ephemeral"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		defer f.mu.Unlock()
		txn := r.PathValue("txn")
		f.attempts = append(f.attempts, txn)
		if f.failing != 0 {
			if f.failing > 0 {
				f.failing--
			}
			w.WriteHeader(500)
			return
		}
		for _, a := range f.accepted {
			if a.ID == txn { // a retry of an accepted transaction: no-op
				w.Write([]byte("{}"))
				return
			}
		}
		f.accepted = append(f.accepted, asTxn{ID: txn, Events: body.Events, Ephemeral: body.Ephemeral, Unstable: body.Unstable})
		w.Write([]byte("{}"))
	}))
	mux.HandleFunc("GET /_matrix/app/v1/users/{user}", f.authed(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.queried = append(f.queried, r.PathValue("user"))
		f.mu.Unlock()
		if strings.HasPrefix(r.PathValue("user"), "@_bridge_known") {
			w.Write([]byte("{}"))
			return
		}
		w.WriteHeader(404)
		w.Write([]byte(`{"errcode":"M_NOT_FOUND"}`))
	}))
	mux.HandleFunc("POST /_matrix/app/v1/ping", f.authed(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			TransactionID string `json:"transaction_id"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		f.pings = append(f.pings, body.TransactionID)
		f.mu.Unlock()
		if body.TransactionID == "fail" {
			w.WriteHeader(500)
			w.Write([]byte(`{"errcode":"M_UNKNOWN"}`))
			return
		}
		w.Write([]byte("{}"))
	}))
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// authed checks the hs_token (application-service-api.md "Authorization").
func (f *fakeAppService) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+f.hsToken {
			f.mu.Lock()
			f.badAuth++
			f.mu.Unlock()
			w.WriteHeader(403)
			w.Write([]byte(`{"errcode":"M_FORBIDDEN"}`))
			return
		}
		h(w, r)
	}
}

// reset forgets what the service saw (a new subtest's server).
func (f *fakeAppService) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failing, f.attempts, f.accepted, f.pings, f.queried, f.badAuth = 0, nil, nil, nil, nil, 0
}

func (f *fakeAppService) setFailing(n int) {
	f.mu.Lock()
	f.failing = n
	f.mu.Unlock()
}

// bodies are the accepted m.room.message bodies in delivery order.
func (f *fakeAppService) bodies() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, txn := range f.accepted {
		for _, ev := range txn.Events {
			if c, _ := ev["content"].(map[string]any); ev["type"] == "m.room.message" {
				out = append(out, fmt.Sprint(c["body"]))
			}
		}
	}
	return out
}

// waitBodies waits until the service accepted want (in this order).
func (f *fakeAppService) waitBodies(t *testing.T, want []string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := f.bodies()
		if strings.Join(got, ",") == strings.Join(want, ",") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("application service received %v, want %v", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitAttempts waits until the service was tried n times (failing or not)
// and returns the last transaction ID tried.
func (f *fakeAppService) waitAttempts(t *testing.T, n int, what string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		f.mu.Lock()
		if len(f.attempts) >= n {
			defer f.mu.Unlock()
			return f.attempts[len(f.attempts)-1]
		}
		f.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatal(what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// writeRegistration writes a registration file for the fake service (url
// "" writes url: null) and returns its path.
func writeRegistration(t *testing.T, dir, id, asURL, as, hs string) string {
	t.Helper()
	u := "null"
	if asURL != "" {
		u = fmt.Sprintf("%q", asURL)
	}
	data := fmt.Sprintf(`id: %q
url: %s
as_token: %q
hs_token: %q
sender_localpart: %s
rate_limited: false
namespaces:
  users:
    - exclusive: true
      regex: "@_%s_.*:kabar\\.test"
  aliases:
    - exclusive: true
      regex: "#_%s_.*:kabar\\.test"
  rooms: []
`, id, u, as, hs, id+"bot", id, id)
	p := filepath.Join(dir, id+".yaml")
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// withAppServices configures the fake service as "bridge" and a url-less
// "nourl" service.
func withAppServices(t *testing.T, f *fakeAppService) func(*configs.Config) {
	dir := t.TempDir()
	files := []string{
		writeRegistration(t, dir, "bridge", f.srv.URL, asToken, hsToken),
		writeRegistration(t, dir, "nourl", "", "nourl_as_token", "nourl_hs_token"),
	}
	return func(c *configs.Config) {
		openRegistration(c)
		c.Client.MaxRequestBytes = 1 << 20
		c.AppServiceConfigFiles = files
	}
}

// asDo sends a request with the as_token, acting as user ("" for the
// sender).
func (ts *testServer) asDo(t *testing.T, method, path, user, body string) (int, map[string]any) {
	t.Helper()
	if user != "" {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + "user_id=" + url.QueryEscape(user)
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	code, resp := ts.do(t, method, path, asToken, rd)
	var out map[string]any
	json.Unmarshal(resp, &out)
	return code, out
}

// asRegister registers a namespace user with m.login.application_service.
func (ts *testServer) asRegister(t *testing.T, local string) {
	t.Helper()
	code, resp := ts.asDo(t, "POST", "/_matrix/client/v3/register", "",
		`{"type":"m.login.application_service","username":"`+local+`","inhibit_login":true}`)
	if code != 200 || resp["user_id"] != "@"+local+":kabar.test" {
		t.Fatalf("register %s: %d %v", local, code, resp)
	}
}

// asOK is asDo that must answer 200.
func (ts *testServer) asOK(t *testing.T, what, method, path, user, body string) map[string]any {
	t.Helper()
	code, resp := ts.asDo(t, method, path, user, body)
	if code != 200 {
		t.Fatalf("%s: %d %v", what, code, resp)
	}
	return resp
}

// bridgedRoom makes alice's room with the namespace user @_bridge_ghost
// joined, and returns alice's token and the room ID.
func bridgedRoom(t *testing.T, ts *testServer) (string, string) {
	t.Helper()
	ts.asRegister(t, "_bridge_ghost")
	alice := ts.register(t, "alice", "password1")
	code, resp := ts.do(t, "POST", "/_matrix/client/v3/createRoom", alice, strings.NewReader(`{"invite":["@_bridge_ghost:kabar.test"]}`))
	var room struct {
		RoomID string `json:"room_id"`
	}
	if json.Unmarshal(resp, &room); code != 200 {
		t.Fatalf("create room: %d %s", code, resp)
	}
	ts.asOK(t, "ghost joins", "POST", "/_matrix/client/v3/rooms/"+room.RoomID+"/join", "@_bridge_ghost:kabar.test", "{}")
	return alice, room.RoomID
}

func asSendText(t *testing.T, ts *testServer, token, room, body string) {
	t.Helper()
	code, resp := ts.do(t, "PUT", "/_matrix/client/v3/rooms/"+room+"/send/m.room.message/"+body, token,
		strings.NewReader(`{"msgtype":"m.text","body":"`+body+`"}`))
	if code != 200 {
		t.Fatalf("send %s: %d %s", body, code, resp)
	}
}

// TestAppServiceUsers: namespace users are registered by the service,
// masqueraded as with ?user_id=, refused to normal registration, created
// on demand by a user query; timestamps can be massaged.
func TestAppServiceUsers(t *testing.T) {
	f := newFakeAppService(t)
	eachServer(t, withAppServices(t, f), func(t *testing.T, ts *testServer) {
		f.reset()
		ts.asRegister(t, "_bridge_alice")
		who := ts.asOK(t, "whoami as sender", "GET", "/_matrix/client/v3/account/whoami", "", "")
		if who["user_id"] != "@bridgebot:kabar.test" {
			t.Errorf("whoami without user_id = %v, want the sender", who)
		}
		who = ts.asOK(t, "whoami masqueraded", "GET", "/_matrix/client/v3/account/whoami", "@_bridge_alice:kabar.test", "")
		if who["user_id"] != "@_bridge_alice:kabar.test" {
			t.Errorf("whoami with user_id = %v", who)
		}

		// A device of a namespace user (registration without
		// inhibit_login) can be acted with through ?device_id=.
		dev := ts.asOK(t, "register with a device", "POST", "/_matrix/client/v3/register", "",
			`{"type":"m.login.application_service","username":"_bridge_dev","device_id":"BRIDGEDEV"}`)
		if dev["device_id"] != "BRIDGEDEV" || dev["access_token"] == nil {
			t.Fatalf("registration with login = %v", dev)
		}
		who = ts.asOK(t, "whoami with device", "GET", "/_matrix/client/v3/account/whoami?device_id=BRIDGEDEV", "@_bridge_dev:kabar.test", "")
		if who["device_id"] != "BRIDGEDEV" {
			t.Errorf("whoami with device_id = %v", who)
		}
		// The device must be the asserted user's.
		if code, resp := ts.asDo(t, "GET", "/_matrix/client/v3/account/whoami?device_id=BRIDGEDEV", "@_bridge_alice:kabar.test", ""); code != 400 || resp["errcode"] != "M_UNKNOWN_DEVICE" {
			t.Errorf("whoami with another user's device: %d %v", code, resp)
		}
		// user_id and device_id mean nothing with a user's own token.
		userTok := fmt.Sprint(dev["access_token"])
		ucode, uresp := ts.do(t, "GET", "/_matrix/client/v3/account/whoami?user_id=%40_bridge_alice%3Akabar.test&device_id=OTHER", userTok, nil)
		if ucode != 200 || !strings.Contains(string(uresp), `"user_id":"@_bridge_dev:kabar.test"`) || !strings.Contains(string(uresp), `"device_id":"BRIDGEDEV"`) {
			t.Errorf("user token with ?user_id=: %d %s", ucode, uresp)
		}

		// m.login.application_service login as a namespace user.
		login := ts.asOK(t, "appservice login", "POST", "/_matrix/client/v3/login", "",
			`{"type":"m.login.application_service","identifier":{"type":"m.id.user","user":"_bridge_alice"}}`)
		code, resp := ts.do(t, "GET", "/_matrix/client/v3/account/whoami", fmt.Sprint(login["access_token"]), nil)
		if code != 200 || !strings.Contains(string(resp), "@_bridge_alice:kabar.test") {
			t.Errorf("whoami with the appservice login's token: %d %s", code, resp)
		}

		// Timestamp massaging on send.
		alice, room := bridgedRoom(t, ts)
		sent := ts.asOK(t, "send with ts", "PUT", "/_matrix/client/v3/rooms/"+room+"/send/m.room.message/t1?ts=1234567890123",
			"@_bridge_ghost:kabar.test", `{"msgtype":"m.text","body":"old"}`)
		ev := ts.asOK(t, "get event", "GET", "/_matrix/client/v3/rooms/"+room+"/event/"+url.PathEscape(sent["event_id"].(string)), "@_bridge_ghost:kabar.test", "")
		if ev["origin_server_ts"] != float64(1234567890123) || ev["sender"] != "@_bridge_ghost:kabar.test" {
			t.Errorf("massaged event = %v", ev)
		}

		// A user query creates the user the service confirms.
		code, resp = ts.do(t, "GET", "/_matrix/client/v3/profile/@_bridge_known1:kabar.test", alice, nil)
		if code != 200 {
			t.Fatalf("profile of a known bridge user: %d %s", code, resp)
		}
		ts.asOK(t, "masquerade as the queried user", "GET", "/_matrix/client/v3/account/whoami", "@_bridge_known1:kabar.test", "")
		// Inviting a user the service confirms creates it too.
		code, resp = ts.do(t, "POST", "/_matrix/client/v3/rooms/"+room+"/invite", alice, strings.NewReader(`{"user_id":"@_bridge_known2:kabar.test"}`))
		if code != 200 {
			t.Errorf("invite a known bridge user: %d %s", code, resp)
		}
		code, _ = ts.do(t, "GET", "/_matrix/client/v3/profile/@_bridge_nobody:kabar.test", alice, nil)
		if code != 404 {
			t.Errorf("profile of an unknown bridge user: %d, want 404", code)
		}
		f.mu.Lock()
		queried := strings.Join(f.queried, ",")
		f.mu.Unlock()
		if !strings.Contains(queried, "@_bridge_known1:kabar.test") || !strings.Contains(queried, "@_bridge_nobody:kabar.test") {
			t.Errorf("user queries = %s", queried)
		}

		// Ping.
		pong := ts.asOK(t, "ping", "POST", "/_matrix/client/v1/appservice/bridge/ping", "", `{"transaction_id":"p1"}`)
		if _, ok := pong["duration_ms"].(float64); !ok {
			t.Errorf("ping = %v", pong)
		}

		// The directory for the service's network.
		ts.asOK(t, "appservice directory", "PUT", "/_matrix/client/v3/directory/list/appservice/net1/"+room, "", `{"visibility":"public"}`)
		code, resp = ts.do(t, "GET", "/_matrix/client/v3/directory/list/room/"+room, "", nil)
		if code != 200 || !strings.Contains(string(resp), `"public"`) {
			t.Errorf("visibility after appservice listing: %d %s", code, resp)
		}
		// Aliases in its namespace are the service's.
		ts.asOK(t, "alias in namespace", "PUT", "/_matrix/client/v3/directory/room/%23_bridge_room:kabar.test", "@_bridge_ghost:kabar.test", `{"room_id":"`+room+`"}`)
		f.mu.Lock()
		if f.badAuth != 0 || len(f.pings) != 1 || f.pings[0] != "p1" {
			t.Errorf("bad hs_token requests %d, pings %v", f.badAuth, f.pings)
		}
		f.mu.Unlock()
	})
}

// TestAppServiceErrors: bad input to the application service extensions
// gets the exact status and errcode.
func TestAppServiceErrors(t *testing.T) {
	f := newFakeAppService(t)
	eachServer(t, withAppServices(t, f), func(t *testing.T, ts *testServer) {
		f.reset()
		alice, room := bridgedRoom(t, ts)
		reg := "/_matrix/client/v3/register"
		whoami := "/_matrix/client/v3/account/whoami"
		send := "/_matrix/client/v3/rooms/" + room + "/send/m.room.message/"
		runErrCases(t, ts, []errCase{
			{"wrong as_token", "GET", whoami + "?user_id=@_bridge_ghost:kabar.test", "not_the_token", "", 401, "M_UNKNOWN_TOKEN"},
			{"user outside namespace", "GET", whoami + "?user_id=@alice:kabar.test", asToken, "", 403, "M_FORBIDDEN"},
			{"user on another server", "GET", whoami + "?user_id=@_bridge_x:other.test", asToken, "", 403, "M_FORBIDDEN"},
			{"namespace user not registered", "GET", whoami + "?user_id=@_bridge_unregistered:kabar.test", asToken, "", 403, "M_FORBIDDEN"},
			{"malformed user_id", "GET", whoami + "?user_id=notauser", asToken, "", 400, "M_INVALID_PARAM"},
			{"other service's user", "GET", whoami + "?user_id=@_nourl_x:kabar.test", asToken, "", 403, "M_FORBIDDEN"},
			{"normal registration in exclusive namespace", "POST", reg, "", `{"username":"_bridge_bob","password":"password1","auth":{"type":"m.login.dummy"}}`, 400, "M_EXCLUSIVE"},
			{"availability in exclusive namespace", "GET", reg + "/available?username=_bridge_bob", "", "", 400, "M_EXCLUSIVE"},
			{"sender name is reserved", "POST", reg, "", `{"username":"bridgebot","password":"password1","auth":{"type":"m.login.dummy"}}`, 400, "M_EXCLUSIVE"},
			{"appservice registration outside namespace", "POST", reg, asToken, `{"type":"m.login.application_service","username":"bob"}`, 400, "M_EXCLUSIVE"},
			{"appservice registration in other's namespace", "POST", reg, asToken, `{"type":"m.login.application_service","username":"_nourl_bob"}`, 400, "M_EXCLUSIVE"},
			{"appservice registration wrong type", "POST", reg, asToken, `{"type":"m.login.dummy","username":"_bridge_bob"}`, 400, "M_BAD_JSON"},
			{"appservice registration no username", "POST", reg, asToken, `{"type":"m.login.application_service"}`, 400, "M_MISSING_PARAM"},
			{"appservice registration bad username", "POST", reg, asToken, `{"type":"m.login.application_service","username":"_bridge_BAD NAME"}`, 400, "M_INVALID_USERNAME"},
			{"appservice registration not JSON", "POST", reg, asToken, `{"type":`, 400, "M_NOT_JSON"},
			{"appservice registration taken", "POST", reg, asToken, `{"type":"m.login.application_service","username":"_bridge_ghost"}`, 400, "M_USER_IN_USE"},
			{"appservice registration wrong token", "POST", reg, "not_the_token", `{"type":"m.login.application_service","username":"_bridge_bob"}`, 401, "M_UNKNOWN_TOKEN"},
			{"appservice registration without token", "POST", reg, "", `{"type":"m.login.application_service","username":"_bridge_bob"}`, 401, "M_MISSING_TOKEN"},
			{"ts not a number", "PUT", send + "t1?ts=yesterday&user_id=@_bridge_ghost:kabar.test", asToken, `{"body":"x"}`, 400, "M_INVALID_PARAM"},
			{"ts negative", "PUT", send + "t2?ts=-5&user_id=@_bridge_ghost:kabar.test", asToken, `{"body":"x"}`, 400, "M_INVALID_PARAM"},
			{"ping by another service", "POST", "/_matrix/client/v1/appservice/nourl/ping", asToken, `{}`, 403, "M_FORBIDDEN"},
			{"ping by a user", "POST", "/_matrix/client/v1/appservice/bridge/ping", alice, `{}`, 403, "M_FORBIDDEN"},
			{"ping without url", "POST", "/_matrix/client/v1/appservice/nourl/ping", "nourl_as_token", `{}`, 400, "M_URL_NOT_SET"},
			{"ping answered 500", "POST", "/_matrix/client/v1/appservice/bridge/ping", asToken, `{"transaction_id":"fail"}`, 502, "M_BAD_STATUS"},
			{"directory by a user", "PUT", "/_matrix/client/v3/directory/list/appservice/net/" + room, alice, `{"visibility":"public"}`, 403, "M_FORBIDDEN"},
			{"directory bad visibility", "PUT", "/_matrix/client/v3/directory/list/appservice/net/" + room, asToken, `{"visibility":"loud"}`, 400, "M_INVALID_PARAM"},
			{"appservice login outside namespace", "POST", "/_matrix/client/v3/login", asToken, `{"type":"m.login.application_service","identifier":{"type":"m.id.user","user":"alice"}}`, 403, "M_EXCLUSIVE"},
			{"appservice login unregistered", "POST", "/_matrix/client/v3/login", asToken, `{"type":"m.login.application_service","identifier":{"type":"m.id.user","user":"_bridge_nobody"}}`, 403, "M_FORBIDDEN"},
			{"appservice login without token", "POST", "/_matrix/client/v3/login", "", `{"type":"m.login.application_service","identifier":{"type":"m.id.user","user":"_bridge_ghost"}}`, 401, "M_MISSING_TOKEN"},
			{"appservice login wrong token", "POST", "/_matrix/client/v3/login", alice, `{"type":"m.login.application_service","identifier":{"type":"m.id.user","user":"_bridge_ghost"}}`, 401, "M_UNKNOWN_TOKEN"},
			{"appservice login no user", "POST", "/_matrix/client/v3/login", asToken, `{"type":"m.login.application_service"}`, 400, "M_BAD_JSON"},
			{"thirdparty is not served", "GET", "/_matrix/client/v3/thirdparty/protocols", asToken, "", 404, "M_UNRECOGNIZED"},
			{"unknown device", "GET", whoami + "?user_id=@_bridge_ghost:kabar.test&device_id=NOPE", asToken, "", 400, "M_UNKNOWN_DEVICE"},
			{"keys upload without a device", "POST", "/_matrix/client/v3/keys/upload?user_id=@_bridge_ghost:kabar.test", asToken, `{"one_time_keys":{}}`, 400, "M_MISSING_PARAM"},
			{"room alias in exclusive namespace", "POST", "/_matrix/client/v3/createRoom", alice, `{"room_alias_name":"_bridge_r"}`, 400, "M_EXCLUSIVE"},
			{"invite an unknown bridge user", "POST", "/_matrix/client/v3/rooms/" + room + "/invite", alice, `{"user_id":"@_bridge_nobody:kabar.test"}`, 404, "M_NOT_FOUND"},
			{"alias in exclusive namespace", "PUT", "/_matrix/client/v3/directory/room/%23_bridge_x:kabar.test", alice, `{"room_id":"` + room + `"}`, 400, "M_EXCLUSIVE"},
		})
	})
}

// TestAppServiceExclusiveEverywhere: no path other than the service's own
// registration creates a user in its exclusive namespace: shared-secret
// registration, JWT auto-create and the admin API get 400 M_EXCLUSIVE, as
// in Synapse (whose register_user checks the namespaces on all of them).
func TestAppServiceExclusiveEverywhere(t *testing.T) {
	f := newFakeAppService(t)
	const secret = "s3cret"
	jwtSecret := "0123456789abcdef0123456789abcdef"
	withAS := withAppServices(t, f)
	eachServer(t, func(c *configs.Config) {
		withAS(c)
		c.Registration.SharedSecret = secret
		c.Login.JWT = configs.JWT{Enabled: true, Secret: jwtSecret, Algorithms: []string{"HS256"}, SubjectClaim: "sub", AutoCreate: true}
	}, func(t *testing.T, ts *testServer) {
		f.reset()
		expect := func(what string, code int, body []byte) {
			t.Helper()
			var e struct{ Errcode string }
			if json.Unmarshal(body, &e); code != 400 || e.Errcode != "M_EXCLUSIVE" {
				t.Errorf("%s: %d %s, want 400 M_EXCLUSIVE", what, code, body)
			}
		}
		_, body := ts.do(t, "GET", "/_synapse/admin/v1/register", "", nil)
		var n struct{ Nonce string }
		json.Unmarshal(body, &n)
		code, body := ts.do(t, "POST", "/_synapse/admin/v1/register", "", jsonBody(map[string]any{"nonce": n.Nonce,
			"username": "_bridge_root", "password": "pw", "mac": macFor(secret, n.Nonce, "_bridge_root", "pw", "notadmin")}))
		expect("shared-secret registration", code, body)

		tok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "_bridge_jwt", "exp": time.Now().Add(time.Hour).Unix()}).SignedString([]byte(jwtSecret))
		code, body = ts.do(t, "POST", "/_matrix/client/v3/login", "", jsonBody(map[string]any{"type": "org.matrix.login.jwt", "token": tok}))
		expect("JWT auto-create", code, body)

		admin := adminToken(t, ts, "admin")
		code, body = ts.do(t, "PUT", "/_synapse/admin/v2/users/@_bridge_adm:kabar.test", admin, strings.NewReader(`{"password":"password1"}`))
		expect("admin user creation", code, body)
		for _, u := range []string{"_bridge_root", "_bridge_jwt", "_bridge_adm"} {
			if code, _ := ts.do(t, "GET", "/_matrix/client/v3/profile/@"+u+":kabar.test", admin, nil); code != 404 {
				t.Errorf("%s was created: profile %d", u, code)
			}
		}
	})
}

// TestAppServiceTransactions: events in rooms the service is interested in
// arrive in order; while it answers 500 the same transaction is retried
// with backoff, and events in rooms it is not in never arrive.
func TestAppServiceTransactions(t *testing.T) {
	f := newFakeAppService(t)
	eachServer(t, withAppServices(t, f), func(t *testing.T, ts *testServer) {
		f.reset()
		alice, room := bridgedRoom(t, ts)
		bob := ts.register(t, "bob", "password1")
		code, resp := ts.do(t, "POST", "/_matrix/client/v3/createRoom", bob, strings.NewReader(`{}`))
		var other struct {
			RoomID string `json:"room_id"`
		}
		if json.Unmarshal(resp, &other); code != 200 {
			t.Fatalf("create room: %d %s", code, resp)
		}
		asSendText(t, ts, alice, room, "m0")
		f.waitBodies(t, []string{"m0"}, 10*time.Second)

		f.setFailing(3)
		f.mu.Lock()
		before := len(f.attempts)
		f.mu.Unlock()
		var want []string
		for i := 1; i <= 5; i++ {
			asSendText(t, ts, alice, room, fmt.Sprintf("m%d", i))
			asSendText(t, ts, bob, other.RoomID, fmt.Sprintf("private%d", i))
			want = append(want, fmt.Sprintf("m%d", i))
		}
		f.waitBodies(t, append([]string{"m0"}, want...), 30*time.Second)

		f.mu.Lock()
		defer f.mu.Unlock()
		tries := f.attempts[before:]
		if len(tries) < 4 || tries[0] != tries[1] || tries[1] != tries[2] || tries[2] != tries[3] {
			t.Errorf("attempts after the outage began = %v: want the failed transaction retried under its ID", tries)
		}
		seen := map[string]bool{}
		for _, txn := range f.accepted {
			if seen[txn.ID] {
				t.Errorf("transaction %s accepted twice", txn.ID)
			}
			seen[txn.ID] = true
		}
	})
}

func newHTTPTestServer(t *testing.T, h http.Handler) string {
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.URL
}
