package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/kabarchat/kabar/configs"
)

func TestBasicsAndRoutingErrors(t *testing.T) {
	eachServer(t, nil, func(t *testing.T, ts *testServer) {
		code, body := ts.do(t, "GET", "/_matrix/client/versions", "", nil)
		if code != 200 || !strings.Contains(string(body), `"v1.1"`) {
			t.Fatalf("versions: %d %s", code, body)
		}
		cases := []struct {
			method, path string
			status       int
			errcode      string
		}{
			{"GET", "/_matrix/client/v3/no_such_thing", 404, "M_UNRECOGNIZED"},
			{"DELETE", "/_matrix/client/versions", 405, "M_UNRECOGNIZED"},
			{"GET", "/.well-known/matrix/server", 404, "M_NOT_FOUND"},
		}
		for _, tc := range cases {
			code, body := ts.do(t, tc.method, tc.path, "", nil)
			var e struct{ Errcode string }
			json.Unmarshal(body, &e)
			if code != tc.status || e.Errcode != tc.errcode {
				t.Errorf("%s %s = %d %s, want %d %s", tc.method, tc.path, code, body, tc.status, tc.errcode)
			}
		}
		// CORS preflight works on any path.
		req, _ := http.NewRequest("OPTIONS", ts.URL+"/_matrix/client/v3/login", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
		}
	})
}

// TestWellKnownDelegation: federation.well_known_server is published at
// /.well-known/matrix/server (server-server-api "Resolving server names").
func TestWellKnownDelegation(t *testing.T) {
	eachServer(t, func(c *configs.Config) { c.Federation.WellKnownServer = "chat.kabar.test:443" }, func(t *testing.T, ts *testServer) {
		code, body := ts.do(t, "GET", "/.well-known/matrix/server", "", nil)
		var got map[string]string
		json.Unmarshal(body, &got)
		if code != 200 || got["m.server"] != "chat.kabar.test:443" {
			t.Fatalf("well-known server: %d %s", code, body)
		}
	})
}
