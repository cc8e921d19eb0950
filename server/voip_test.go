package main

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kabarchat/kabar/configs"
)

type turnResp struct {
	Username string   `json:"username"`
	Password string   `json:"password"`
	URIs     []string `json:"uris"`
	TTL      int64    `json:"ttl"`
}

func getTurn(t *testing.T, ts *testServer, token string) (int, turnResp, string) {
	t.Helper()
	code, body := ts.do(t, "GET", "/_matrix/client/v3/voip/turnServer", token, nil)
	var r turnResp
	json.Unmarshal(body, &r)
	return code, r, string(body)
}

// Shared-secret credentials follow coturn's TURN REST API: the username is
// "<expiry>:<user ID>" and the password base64(HMAC-SHA1(secret, username)).
func TestTURNSharedSecret(t *testing.T) {
	const secret = "coturn-secret"
	uris := []string{"turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:5349?transport=tcp"}
	eachServer(t, func(c *configs.Config) {
		openRegistration(c)
		c.VoIP = configs.VoIP{TurnURIs: uris, TurnSharedSecret: secret, TurnTTL: time.Hour}
	}, func(t *testing.T, ts *testServer) {
		tok := ts.register(t, "caller", "a long password")
		if code, body := ts.do(t, "GET", "/_matrix/client/v3/voip/turnServer", "", nil); code != 401 || !strings.Contains(string(body), "M_MISSING_TOKEN") {
			t.Fatalf("unauthenticated: %d %s", code, body)
		}
		code, r, body := getTurn(t, ts, tok)
		if code != 200 || r.TTL != 3600 || len(r.URIs) != 2 || r.URIs[1] != uris[1] {
			t.Fatalf("turnServer: %d %s", code, body)
		}
		expiry, user, found := strings.Cut(r.Username, ":")
		if !found || user != "@caller:kabar.test" {
			t.Fatalf("username %q", r.Username)
		}
		exp, err := strconv.ParseInt(expiry, 10, 64)
		if err != nil || exp < time.Now().Add(59*time.Minute).Unix() || exp > time.Now().Add(61*time.Minute).Unix() {
			t.Fatalf("expiry %q not about an hour away", expiry)
		}
		mac := hmac.New(sha1.New, []byte(secret))
		mac.Write([]byte(r.Username))
		if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); r.Password != want {
			t.Fatalf("password %q, want %q", r.Password, want)
		}
	})
}

func TestTURNStaticAndUnconfigured(t *testing.T) {
	cases := []struct {
		name string
		voip configs.VoIP
		want string
	}{
		{"unconfigured", configs.VoIP{TurnURIs: []string{}, TurnTTL: 24 * time.Hour}, `{}`},
		{"static", configs.VoIP{TurnURIs: []string{"turn:10.0.0.1:3478"}, TurnUsername: "u", TurnPassword: "p", TurnTTL: 24 * time.Hour},
			`{"username":"u","password":"p","uris":["turn:10.0.0.1:3478"],"ttl":86400}`},
	}
	dbURL := ""
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, dbURL, func(c *configs.Config) { openRegistration(c); c.VoIP = tc.voip })
			tok := ts.register(t, "caller", "a long password")
			code, body := ts.do(t, "GET", "/_matrix/client/v3/voip/turnServer", tok, nil)
			if code != 200 || strings.TrimSpace(string(body)) != tc.want {
				t.Fatalf("got %d %s, want %s", code, body, tc.want)
			}
		})
	}
}

func TestTURNConfigValidation(t *testing.T) {
	cases := []configs.VoIP{
		{TurnURIs: []string{"http://x"}, TurnSharedSecret: "s", TurnTTL: time.Hour},
		{TurnURIs: []string{"turn:x"}, TurnTTL: time.Hour},
		{TurnURIs: []string{"turn:x"}, TurnSharedSecret: "s", TurnTTL: time.Second},
	}
	for i, v := range cases {
		cfg := configs.Default()
		cfg.VoIP = v
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "voip") {
			t.Errorf("case %d: %v", i, err)
		}
	}
}
