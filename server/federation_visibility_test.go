package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kabarchat/kabar/federation/keys"
	"github.com/kabarchat/kabar/federation/xmatrix"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// visPeer asks hs1's federation API as hs2, with raw signed requests, so
// that bad bodies can be sent too.
type visPeer struct {
	hs1, hs2 *fedServer
	ca       *testCA
	key      *keys.SigningKey
}

func (p *visPeer) req(t *testing.T, method, path string, body []byte) (int, map[string]any) {
	t.Helper()
	var auth string
	var err error
	if body == nil {
		auth, err = xmatrix.Sign(p.key, p.hs2.ServerName, p.hs1.ServerName, method, path, nil)
	} else {
		auth, err = xmatrix.Sign(p.key, p.hs2.ServerName, p.hs1.ServerName, method, path, body)
		if err != nil { // not JSON: sign as if empty, the body check comes first
			auth, err = xmatrix.Sign(p.key, p.hs2.ServerName, p.hs1.ServerName, method, path, nil)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	return fedRequest(t, p.ca, method, "https://"+p.hs1.ServerName+path, auth, body)
}

// TestFederationHistoryVisibility: the read endpoints apply history
// visibility per event for the requesting server (client-server-api "Room
// History Visibility" rules, a server seeing what any of its users could):
// a server that left keeps the history it could see and nothing after; a
// server never in a "joined" room gets 403 on /event and on the walking endpoints, and redacted events
// from /backfill; a world_readable room is open to any server the ACL
// allows.
func TestFederationHistoryVisibility(t *testing.T) {
	for _, db := range storetest.URLs(t) {
		t.Run(db.Name, func(t *testing.T) { testHistoryVisibility(t, db.URL) })
	}
}

func testHistoryVisibility(t *testing.T, hs1DB string) {
	ca := newTestCA(t)
	hs1 := startFedServer(t, ca, "127.0.0.2", hs1DB)
	hs2 := startFedServer(t, ca, "127.0.0.3", filepath.Join(t.TempDir(), "hs2.db"))
	alice := hs1.register(t, "alice", "password-alice")
	bob := hs2.register(t, "bob", "password-bob")
	bobID := "@bob:" + hs2.ServerName
	key2, err := keys.LoadOrCreate(filepath.Join(hs2.srv.cfg.DataDir, "signing.key"))
	if err != nil {
		t.Fatal(err)
	}
	p := &visPeer{hs1: hs1, hs2: hs2, ca: ca, key: key2}
	newRoom := func(vis string) string {
		return hs1.call(t, "POST", "/_matrix/client/v3/createRoom", alice, `{"preset":"public_chat","room_version":"10",
			"initial_state":[{"type":"m.room.history_visibility","state_key":"","content":{"history_visibility":"`+vis+`"}}]}`, 200)["room_id"].(string)
	}
	send := func(room, body string) string {
		return hs1.call(t, "PUT", roomPath(room)+"/send/m.room.message/"+url.PathEscape(room+body), alice,
			`{"msgtype":"m.text","body":"`+body+`"}`, 200)["event_id"].(string)
	}
	status := func(t *testing.T, code int, resp map[string]any, want int, errcode string) {
		t.Helper()
		if code != want || (errcode != "" && resp["errcode"] != errcode) {
			t.Fatalf("got %d %v, want %d %s", code, resp, want, errcode)
		}
	}
	getEvent := func(id string) (int, map[string]any) {
		return p.req(t, "GET", "/_matrix/federation/v1/event/"+url.PathEscape(id), nil)
	}
	backfill := func(room, from string) map[string]any {
		code, resp := p.req(t, "GET", "/_matrix/federation/v1/backfill/"+url.PathEscape(room)+"?limit=100&v="+url.QueryEscape(from), nil)
		status(t, code, resp, 200, "")
		return resp
	}
	// kept maps the message bodies in a /backfill answer to whether they
	// survived: a redacted message has no content.body.
	kept := func(resp map[string]any, key string) map[string]int {
		out := map[string]int{}
		list, _ := resp[key].([]any)
		for _, e := range list {
			ev := e.(map[string]any)
			if ev["type"] != "m.room.message" {
				continue
			}
			content, _ := ev["content"].(map[string]any)
			if b, ok := content["body"].(string); ok {
				out[b]++
			} else {
				out[""]++ // redacted
			}
		}
		return out
	}

	for _, vis := range []string{"shared", "joined"} {
		t.Run("left server, "+vis, func(t *testing.T) {
			room := newRoom(vis)
			e0 := send(room, "before")
			hs2.call(t, "POST", "/_matrix/client/v3/join/"+url.PathEscape(room)+"?via="+url.QueryEscape(hs1.ServerName), bob, `{}`, 200)
			waitMembership(t, hs1.testServer, room, bobID, "join")
			e1 := send(room, "during")
			waitEvent(t, hs2.testServer, e1)
			hs2.call(t, "POST", roomPath(room)+"/leave", bob, `{}`, 200)
			waitMembership(t, hs1.testServer, room, bobID, "leave")
			e2 := send(room, "after")

			code, resp := getEvent(e1)
			status(t, code, resp, 200, "")
			code, resp = getEvent(e2)
			status(t, code, resp, 403, "M_FORBIDDEN")
			code, resp = getEvent(e0)
			if vis == "shared" { // bob joined after it was sent
				status(t, code, resp, 200, "")
			} else {
				status(t, code, resp, 403, "M_FORBIDDEN")
			}
			code, resp = p.req(t, "GET", "/_matrix/federation/v1/state_ids/"+url.PathEscape(room)+"?event_id="+url.QueryEscape(e1), nil)
			status(t, code, resp, 200, "")
			code, resp = p.req(t, "GET", "/_matrix/federation/v1/state_ids/"+url.PathEscape(room)+"?event_id="+url.QueryEscape(e2), nil)
			status(t, code, resp, 403, "M_FORBIDDEN")

			want := map[string]int{"during": 1, "": 1} // "after" redacted
			if vis == "shared" {
				want["before"] = 1
			} else {
				want[""]++
			}
			if got := kept(backfill(room, e2), "pdus"); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("backfill kept %v, want %v", got, want)
			}
			gm, _ := json.Marshal(map[string]any{"earliest_events": []string{}, "latest_events": []string{e2}, "limit": 100})
			code, resp = p.req(t, "POST", "/_matrix/federation/v1/get_missing_events/"+url.PathEscape(room), gm)
			status(t, code, resp, 200, "")
			delete(want, "")
			if vis == "joined" {
				want[""] = 1 // before; "after" itself is the latest event, not returned
			}
			if got := kept(resp, "events"); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("get_missing_events kept %v, want %v", got, want)
			}
		})
	}

	for _, vis := range []string{"invited", "joined"} {
		t.Run("invited server, "+vis, func(t *testing.T) {
			room := newRoom(vis)
			e0 := send(room, "before")
			hs1.call(t, "POST", roomPath(room)+"/invite", alice, `{"user_id":"`+bobID+`"}`, 200)
			waitMembership(t, hs1.testServer, room, bobID, "invite")
			e1 := send(room, "invited")
			code, resp := getEvent(e0)
			status(t, code, resp, 403, "M_FORBIDDEN")
			code, resp = getEvent(e1)
			if vis == "invited" { // an invite counts only under "invited"
				status(t, code, resp, 200, "")
			} else {
				status(t, code, resp, 403, "M_FORBIDDEN")
			}
		})
	}

	t.Run("never joined, joined visibility", func(t *testing.T) {
		room := newRoom("joined")
		e := send(room, "secret")
		code, resp := getEvent(e)
		status(t, code, resp, 403, "M_FORBIDDEN")
		// Never in the room: the walking endpoints refuse outright rather
		// than serve redacted copies showing who is in the room.
		code, resp = p.req(t, "GET", "/_matrix/federation/v1/backfill/"+url.PathEscape(room)+"?limit=100&v="+url.QueryEscape(e), nil)
		status(t, code, resp, 403, "M_FORBIDDEN")
		code, resp = p.req(t, "GET", "/_matrix/federation/v1/event_auth/"+url.PathEscape(room)+"/"+url.PathEscape(e), nil)
		status(t, code, resp, 403, "M_FORBIDDEN")
		for _, ep := range []string{"state", "state_ids"} {
			code, resp = p.req(t, "GET", "/_matrix/federation/v1/"+ep+"/"+url.PathEscape(room)+"?event_id="+url.QueryEscape(e), nil)
			status(t, code, resp, 403, "M_FORBIDDEN")
		}
		after := send(room, "later")
		gm, _ := json.Marshal(map[string]any{"earliest_events": []string{}, "latest_events": []string{after}, "limit": 100})
		code, resp = p.req(t, "POST", "/_matrix/federation/v1/get_missing_events/"+url.PathEscape(room), gm)
		status(t, code, resp, 403, "M_FORBIDDEN")
	})

	t.Run("world_readable, then ACL", func(t *testing.T) {
		room := newRoom("world_readable")
		e := send(room, "public")
		code, resp := getEvent(e)
		status(t, code, resp, 200, "")
		if got := kept(backfill(room, e), "pdus"); fmt.Sprint(got) != fmt.Sprint(map[string]int{"public": 1}) {
			t.Fatalf("backfill kept %v", got)
		}
		hs1.call(t, "PUT", roomPath(room)+"/state/m.room.server_acl/", alice,
			`{"allow":["*"],"deny":["`+strings.Split(hs2.ServerName, ":")[0]+`"]}`, 200)
		code, resp = getEvent(e)
		status(t, code, resp, 403, "M_FORBIDDEN")
		code, resp = p.req(t, "GET", "/_matrix/federation/v1/backfill/"+url.PathEscape(room)+"?limit=10&v="+url.QueryEscape(e), nil)
		status(t, code, resp, 403, "M_FORBIDDEN")
	})

	t.Run("bad requests", func(t *testing.T) {
		// World-readable, so that the walking endpoints answer a server
		// never in the room; private is not.
		room := newRoom("world_readable")
		other := newRoom("world_readable")
		private := url.PathEscape(newRoom("shared"))
		e := send(room, "here")
		ro, oth := url.PathEscape(room), url.PathEscape(other)
		q := url.QueryEscape(e)
		unknownRoom := url.PathEscape("!nope:" + hs1.ServerName)
		gme := "/_matrix/federation/v1/get_missing_events/" + ro
		cases := []struct {
			name, method, path, body string
			status                   int
			errcode                  string
		}{
			{"event: unknown", "GET", "/_matrix/federation/v1/event/" + url.PathEscape("$nope"), "", 404, "M_NOT_FOUND"},
			{"state_ids: bad room ID", "GET", "/_matrix/federation/v1/state_ids/nope?event_id=" + q, "", 400, "M_INVALID_PARAM"},
			{"state_ids: unknown event", "GET", "/_matrix/federation/v1/state_ids/" + ro + "?event_id=%24nope", "", 404, "M_NOT_FOUND"},
			{"state_ids: event of another room", "GET", "/_matrix/federation/v1/state_ids/" + oth + "?event_id=" + q, "", 404, "M_NOT_FOUND"},
			{"state: event of another room", "GET", "/_matrix/federation/v1/state/" + oth + "?event_id=" + q, "", 404, "M_NOT_FOUND"},
			{"state: no event_id", "GET", "/_matrix/federation/v1/state/" + ro, "", 400, "M_MISSING_PARAM"},
			{"event_auth: event of another room", "GET", "/_matrix/federation/v1/event_auth/" + oth + "/" + url.PathEscape(e), "", 404, "M_NOT_FOUND"},
			{"event_auth: bad room ID", "GET", "/_matrix/federation/v1/event_auth/nope/" + url.PathEscape(e), "", 400, "M_INVALID_PARAM"},
			{"backfill: bad room ID", "GET", "/_matrix/federation/v1/backfill/nope?limit=5&v=" + q, "", 400, "M_INVALID_PARAM"},
			{"backfill: unknown room", "GET", "/_matrix/federation/v1/backfill/" + unknownRoom + "?limit=5&v=" + q, "", 404, "M_NOT_FOUND"},
			{"backfill: limit garbage", "GET", "/_matrix/federation/v1/backfill/" + ro + "?limit=abc&v=" + q, "", 400, "M_INVALID_PARAM"},
			{"backfill: negative limit", "GET", "/_matrix/federation/v1/backfill/" + ro + "?limit=-5&v=" + q, "", 400, "M_INVALID_PARAM"},
			{"backfill: zero limit", "GET", "/_matrix/federation/v1/backfill/" + ro + "?limit=0&v=" + q, "", 400, "M_INVALID_PARAM"},
			{"backfill: overflowing limit", "GET", "/_matrix/federation/v1/backfill/" + ro + "?limit=99999999999999999999&v=" + q, "", 400, "M_INVALID_PARAM"},
			{"backfill: no v", "GET", "/_matrix/federation/v1/backfill/" + ro + "?limit=5", "", 400, "M_MISSING_PARAM"},
			{"backfill: huge limit is capped", "GET", "/_matrix/federation/v1/backfill/" + ro + "?limit=1000000&v=" + q, "", 200, ""},
			{"backfill: event of another room", "GET", "/_matrix/federation/v1/backfill/" + oth + "?limit=5&v=" + q, "", 200, ""},
			// A body that is not JSON cannot be signed: the X-Matrix check refuses it.
			{"get_missing_events: not JSON", "POST", gme, "{", 401, "M_UNAUTHORIZED"},
			{"get_missing_events: an array", "POST", gme, `[]`, 400, "M_BAD_JSON"},
			{"get_missing_events: numbers for IDs", "POST", gme, `{"latest_events":[1]}`, 400, "M_BAD_JSON"},
			{"get_missing_events: string limit", "POST", gme, `{"latest_events":["` + e + `"],"limit":"5"}`, 400, "M_BAD_JSON"},
			{"get_missing_events: wrong type", "POST", gme, `{"latest_events":"x"}`, 400, "M_BAD_JSON"},
			{"get_missing_events: no latest_events", "POST", gme, `{"earliest_events":[]}`, 400, "M_MISSING_PARAM"},
			{"get_missing_events: negative limit", "POST", gme, `{"latest_events":["` + e + `"],"limit":-1}`, 400, "M_INVALID_PARAM"},
			{"get_missing_events: bad room ID", "POST", "/_matrix/federation/v1/get_missing_events/nope", `{"latest_events":["` + e + `"]}`, 400, "M_INVALID_PARAM"},
			{"get_missing_events: unknown latest", "POST", gme, `{"latest_events":["$nope"]}`, 200, ""},
			{"get_missing_events: huge limit is capped", "POST", gme, `{"latest_events":["` + e + `"],"limit":1000000}`, 200, ""},
			{"backfill: never in a shared room", "GET", "/_matrix/federation/v1/backfill/" + private + "?limit=5&v=" + q, "", 403, "M_FORBIDDEN"},
			{"get_missing_events: never in a shared room", "POST", "/_matrix/federation/v1/get_missing_events/" + private, `{"latest_events":["` + e + `"]}`, 403, "M_FORBIDDEN"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				var body []byte
				if tc.body != "" {
					body = []byte(tc.body)
				}
				code, resp := p.req(t, tc.method, tc.path, body)
				status(t, code, resp, tc.status, tc.errcode)
				for _, key := range []string{"pdus", "events"} {
					if list, ok := resp[key].([]any); ok && len(list) > 100 {
						t.Fatalf("%d %s over the bound", len(list), key)
					}
				}
			})
		}
	})

	t.Run("state auth chain", func(t *testing.T) {
		room := newRoom("world_readable")
		e := send(room, "x")
		code, resp := p.req(t, "GET", "/_matrix/federation/v1/state/"+url.PathEscape(room)+"?event_id="+url.QueryEscape(e), nil)
		status(t, code, resp, 200, "")
		stateIDs, chainIDs := stateAndChain(t, hs1, e)
		code, ids := p.req(t, "GET", "/_matrix/federation/v1/state_ids/"+url.PathEscape(room)+"?event_id="+url.QueryEscape(e), nil)
		status(t, code, ids, 200, "")
		if got := sortedStrings(ids["pdu_ids"]); !slices.Equal(got, stateIDs) {
			t.Fatalf("pdu_ids %v, want %v", got, stateIDs)
		}
		if got := sortedStrings(ids["auth_chain_ids"]); !slices.Equal(got, chainIDs) {
			t.Fatalf("auth_chain_ids %v, want the state's auth chain %v", got, chainIDs)
		}
		if n := len(resp["auth_chain"].([]any)); n != len(chainIDs) {
			t.Fatalf("/state auth_chain has %d events, want %d", n, len(chainIDs))
		}
	})
}

func sortedStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, s := range list {
		out = append(out, s.(string))
	}
	slices.Sort(out)
	return out
}

// stateAndChain computes, from hs1's store, the state before event and the
// auth chain of that state (auth_events of the state events, recursively).
func stateAndChain(t *testing.T, hs *fedServer, eventID string) (state, chain []string) {
	t.Helper()
	ctx := context.Background()
	evs, err := hs.srv.rooms.StateBefore(ctx, eventID)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var queue []string
	for _, e := range evs {
		state = append(state, e.EventID())
		queue = append(queue, e.AuthEventIDs()...)
	}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if seen[id] {
			continue
		}
		seen[id] = true
		chain = append(chain, id)
		ev, _, err := hs.srv.rooms.Event(ctx, spec.EventID(id))
		if err != nil {
			t.Fatal(err)
		}
		queue = append(queue, ev.AuthEventIDs()...)
	}
	slices.Sort(state)
	slices.Sort(chain)
	return state, chain
}
