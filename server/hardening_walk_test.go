package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// newHardener registers alice and bob, gives each a room with a message and
// records the IDs the walk fills path parameters with.
func newHardener(t *testing.T, ts *testServer) *hardener {
	t.Helper()
	alice := ts.register(t, "alice", "password-alice")
	bob := ts.register(t, "bob", "password-bob")
	whoami := func(tok string) (user, device string) {
		r := ts.call(t, "GET", "/_matrix/client/v3/account/whoami", tok, "", 200)
		return r["user_id"].(string), r["device_id"].(string)
	}
	aliceID, aliceDevice := whoami(alice)
	bobID, bobDevice := whoami(bob)
	roomAndEvent := func(tok string) (room, event string) {
		room = ts.call(t, "POST", "/_matrix/client/v3/createRoom", tok, `{"preset":"private_chat"}`, 200)["room_id"].(string)
		event = ts.call(t, "PUT", "/_matrix/client/v3/rooms/"+room+"/send/m.room.message/setup", tok,
			`{"msgtype":"m.text","body":"hello"}`, 200)["event_id"].(string)
		return room, event
	}
	room, event := roomAndEvent(alice)
	bobRoom, bobEvent := roomAndEvent(bob)
	h := &hardener{
		ts: ts, alice: alice, failures: map[string]string{}, statuses: map[int]int{},
		client: &http.Client{Timeout: 15 * time.Second},
		valid: map[string]string{
			"userId": aliceID, "roomId": room, "roomIdOrAlias": room, "roomAlias": "#hardening:kabar.test",
			"eventId": event, "eventType": "org.example.hardening", "stateKey": "k", "txnId": "t1",
			"type": "org.example.hardening", "tag": "u.work", "deviceId": aliceDevice, "filterId": "0",
			"receiptType": "m.read", "relType": "m.annotation", "serverName": "kabar.test",
			"mediaId": "AAAAAAAAAAAAAAAAAAAAAAAA", "fileName": "f.txt", "version": "1", "sessionId": "s1",
			"kind": "override", "scope": "global", "ruleId": ".m.rule.master", "attr": "enabled",
			"keyName": "displayname", "idpId": "x",
		},
		other: map[string]string{
			"userId": bobID, "roomId": bobRoom, "roomIdOrAlias": bobRoom, "eventId": bobEvent, "deviceId": bobDevice,
		},
	}
	if addr := ts.srv.fed.Addr(); addr != "" {
		h.fedURL = "http://" + addr
	}
	return h
}

// walkAuth checks what every route answers before any handler runs: a
// token is required unless the route is public, OPTIONS is a CORS
// preflight, HEAD never fails, and a wrong method is 405 M_UNRECOGNIZED.
func (h *hardener) walkAuth(t *testing.T, tg routeTarget) {
	path := tg.path(h.valid, "", "")
	body := []byte(`{}`)
	if tg.route.Method == http.MethodGet {
		body = nil
	}
	if !publicRoutes[tg.key()] {
		r := request{tg: tg, label: "no token", method: tg.route.Method, path: path, body: body}
		status, data := h.send(t, r)
		want, code := http.StatusUnauthorized, "M_MISSING_TOKEN"
		if tg.isFederation() {
			code = "M_UNAUTHORIZED"
		}
		var e struct{ Errcode string }
		json.Unmarshal(data, &e)
		if status != want || e.Errcode != code {
			h.fail(r, status, "want 401 "+code+": "+string(data))
		}
	}
	if !publicRoutes[tg.key()] && !tg.isFederation() {
		h.walkBadTokens(t, tg, path, body)
	}
	r := request{tg: tg, label: "preflight", method: http.MethodOptions, path: path}
	if status, _ := h.send(t, r); status != http.StatusOK {
		h.fail(r, status, "preflight must be 200")
	}
	h.send(t, request{tg: tg, label: "HEAD", method: http.MethodHead, path: path, token: h.alice})
	if m := h.wrongMethod(tg); m != "" {
		r := request{tg: tg, label: "wrong method", method: m, path: path, token: h.alice}
		status, data := h.send(t, r)
		var e struct{ Errcode string }
		json.Unmarshal(data, &e)
		// X-Matrix is checked per route, after routing: a wrong method is
		// the router's 405 on both listeners.
		if status != http.StatusMethodNotAllowed || e.Errcode != "M_UNRECOGNIZED" {
			h.fail(r, status, "want 405 M_UNRECOGNIZED: "+string(data))
		}
	}
}

// walkBadTokens sends malformed and unknown credentials: each must be a
// plain 401 with M_MISSING_TOKEN or M_UNKNOWN_TOKEN.
func (h *hardener) walkBadTokens(t *testing.T, tg routeTarget, path string, body []byte) {
	for _, auth := range badAuthHeaders {
		r := request{tg: tg, label: "bad auth " + truncate(auth, 20), method: tg.route.Method, path: path, auth: auth, body: body}
		status, data := h.send(t, r)
		var e struct{ Errcode string }
		json.Unmarshal(data, &e)
		if status != http.StatusUnauthorized || (e.Errcode != "M_MISSING_TOKEN" && e.Errcode != "M_UNKNOWN_TOKEN") {
			h.fail(r, status, "want 401 M_MISSING_TOKEN or M_UNKNOWN_TOKEN: "+string(data))
		}
	}
	r := request{tg: tg, label: "bad access_token query", method: tg.route.Method, path: path + "?access_token=%FF" + long, body: body}
	if status, _ := h.send(t, r); status != http.StatusUnauthorized && status != http.StatusBadRequest {
		h.fail(r, status, "want 401 or 400")
	}
}

// wrongMethod is a method the route's path is not registered for.
func (h *hardener) wrongMethod(tg routeTarget) string {
	taken := map[string]bool{}
	for _, other := range h.ts.srv.client.Routes() {
		if other.Path == tg.route.Path {
			taken[other.Method] = true
		}
	}
	if tg.isFederation() && h.ts.srv.fed.echo != nil {
		for _, other := range h.ts.srv.fed.echo.Routes() {
			if other.Path == tg.route.Path {
				taken[other.Method] = true
			}
		}
	}
	for _, m := range []string{http.MethodDelete, http.MethodPut, http.MethodPost, http.MethodGet} {
		if !taken[m] {
			return m
		}
	}
	return ""
}

// walk sends the hostile requests: garbage in each path parameter, another
// user's IDs, hostile bodies and hostile query strings.
func (h *hardener) walk(t *testing.T, tg routeTarget) {
	method := tg.route.Method
	empty := []byte(`{}`)
	if method == http.MethodGet {
		empty = nil
	}
	tokens := []string{h.alice}
	switch {
	case tg.isFederation() && !publicRoutes[tg.key()]:
		tokens = []string{""} // X-Matrix is checked first; see walkAuth
	case tg.isFederation():
		tokens = []string{""}
	case publicRoutes[tg.key()]:
		tokens = []string{h.alice, ""}
	}
	valid := tg.path(h.valid, "", "")
	if tg.isR0() {
		h.send(t, request{tg: tg, label: "r0 valid", method: method, path: valid, token: h.alice, body: empty})
		return
	}
	for _, tok := range tokens {
		for _, p := range tg.params() {
			for _, g := range garbageParams {
				h.send(t, request{tg: tg, label: "garbage " + p, method: method, path: tg.path(h.valid, p, g), token: tok, body: empty})
			}
		}
		if tok == "" && tg.isFederation() && !publicRoutes[tg.key()] {
			continue
		}
		for _, q := range hostileQueries {
			h.send(t, request{tg: tg, label: "query " + q, method: method, path: valid + "?" + q, token: tok, body: empty})
		}
		if method != http.MethodGet {
			for _, b := range hostileBodies {
				h.send(t, request{tg: tg, label: "body " + b.name, method: method, path: valid, token: tok, body: b.body})
			}
		}
	}
	if len(tg.params()) > 0 && !tg.isFederation() {
		h.walkOther(t, tg, empty)
	}
}

// walkOther sends alice's request with bob's IDs: it must fail cleanly, and
// nothing under another user's /user/{userId} or a write to another user's
// profile or typing state may succeed.
func (h *hardener) walkOther(t *testing.T, tg routeTarget, body []byte) {
	vals := map[string]string{}
	for k, v := range h.valid {
		vals[k] = v
	}
	for k, v := range h.other {
		vals[k] = v
	}
	r := request{tg: tg, label: "other user's IDs", method: tg.route.Method, path: tg.path(vals, "", ""), token: h.alice, body: body, withBob: true}
	status, data := h.send(t, r)
	p := tg.route.Path
	guarded := strings.Contains(p, "/user/:userId/") || strings.Contains(p, "/typing/:userId") ||
		(strings.Contains(p, "/profile/:userId") && tg.route.Method != http.MethodGet)
	if guarded && status < 300 {
		h.fail(r, status, "acted on another user's data: "+string(data))
	}
}
