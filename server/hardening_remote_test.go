package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestHardeningRemoteFailures: a remote server that cannot be reached gives
// a clean 502 naming it, never the DNS/TCP error text (DESIGN.md rule 3).
// elsewhere.invalid never resolves (RFC 6761), so no network is needed.
func TestHardeningRemoteFailures(t *testing.T) {
	eachServer(t, hardeningConfig, func(t *testing.T, ts *testServer) {
		tok := ts.register(t, "alice", "password-alice")
		room := ts.call(t, "POST", "/_matrix/client/v3/createRoom", tok, `{}`, 200)["room_id"].(string)
		v3 := "/_matrix/client/v3"
		cases := []struct {
			method, path, body string
			status             int
			errcode, message   string
		}{
			{"POST", v3 + "/join/!abc:elsewhere.invalid", `{}`, 502, "M_UNKNOWN", "no server could join us to the room (tried elsewhere.invalid)"},
			{"POST", v3 + "/join/!abc:kabar.test?via=elsewhere.invalid", `{}`, 502, "M_UNKNOWN", "no server could join us to the room (tried elsewhere.invalid)"},
			{"POST", v3 + "/rooms/!abc:elsewhere.invalid/join", `{}`, 502, "M_UNKNOWN", "no server could join us to the room (tried elsewhere.invalid)"},
			{"POST", v3 + "/join/%23x:elsewhere.invalid", `{}`, 502, "M_UNKNOWN", "could not reach elsewhere.invalid"},
			{"POST", v3 + "/knock/%23x:elsewhere.invalid", `{}`, 502, "M_UNKNOWN", "could not reach elsewhere.invalid"},
			{"POST", v3 + "/rooms/" + room + "/invite", `{"user_id":"@x:elsewhere.invalid"}`, 502, "M_UNKNOWN", "could not reach elsewhere.invalid"},
			{"GET", "/_matrix/client/v1/media/download/elsewhere.invalid/abc", "", 502, "M_UNKNOWN", "could not fetch remote media"},
			{"GET", v3 + "/sync?filter=%7B%22room%22%3A%7B%22timeline%22%3A%7B%22limit%22%3A%22x%22%7D%7D%7D", "", 400, "M_BAD_JSON",
				`filter: field "room.timeline.limit" has the wrong type: want number`},
			{"GET", v3 + "/rooms/" + room + "/state/%00", "", 400, "M_INVALID_PARAM", "request path contains a NUL character or invalid UTF-8"},
		}
		for _, tc := range cases {
			code, body := ts.do(t, tc.method, tc.path, tok, strings.NewReader(tc.body))
			var e struct{ Errcode, Error string }
			json.Unmarshal(body, &e)
			if code != tc.status || e.Errcode != tc.errcode || e.Error != tc.message {
				t.Errorf("%s %s = %d %s, want %d %s %q", tc.method, tc.path, code, body, tc.status, tc.errcode, tc.message)
			}
		}
	})
}
