package main

import (
	"net/url"
	"strings"
	"testing"

	"github.com/kabarchat/kabar/configs"
)

// space is a local tree for the hierarchy tests:
//
//	S (space, public)
//	├── S2 (space, public, order "a")
//	│   ├── D (public)
//	│   └── E (restricted to members of S)
//	├── A (public, order "b", suggested)
//	└── P (invite only: hidden from bob)
type space struct {
	ts                *testServer
	alice, bob        string
	s, s2, a, d, e, p string
	names             map[string]string
}

func newSpace(t *testing.T, ts *testServer) *space {
	sp := &space{ts: ts, alice: ts.register(t, "alice", "password-alice"), bob: ts.register(t, "bob", "password-bob")}
	create := func(name, body string) string {
		return ts.call(t, "POST", "/_matrix/client/v3/createRoom", sp.alice, body, 200)["room_id"].(string)
	}
	sp.s = create("S", `{"preset":"public_chat","name":"S","creation_content":{"type":"m.space"}}`)
	sp.s2 = create("S2", `{"preset":"public_chat","name":"S2","creation_content":{"type":"m.space"}}`)
	sp.a = create("A", `{"preset":"public_chat","name":"A","topic":"the A room"}`)
	sp.d = create("D", `{"preset":"public_chat","name":"D"}`)
	sp.e = create("E", `{"preset":"private_chat","name":"E","room_version":"10","initial_state":[{"type":"m.room.join_rules","state_key":"","content":{"join_rule":"restricted","allow":[{"type":"m.room_membership","room_id":"`+sp.s+`"}]}}]}`)
	sp.p = create("P", `{"preset":"private_chat","name":"P"}`)
	sp.names = map[string]string{sp.s: "S", sp.s2: "S2", sp.a: "A", sp.d: "D", sp.e: "E", sp.p: "P"}
	link := func(parent, child, extra string) {
		path := "/_matrix/client/v3/rooms/" + url.PathEscape(parent) + "/state/m.space.child/" + url.PathEscape(child)
		ts.call(t, "PUT", path, sp.alice, `{"via":["kabar.test"]`+extra+`}`, 200)
	}
	link(sp.s, sp.s2, `,"order":"a"`)
	link(sp.s, sp.a, `,"order":"b","suggested":true`)
	link(sp.s, sp.p, ``)
	link(sp.s2, sp.d, ``)
	link(sp.s2, sp.e, ``)
	// A child without via is no child (client-server-api m.space.child).
	ts.call(t, "PUT", "/_matrix/client/v3/rooms/"+url.PathEscape(sp.s)+"/state/m.space.child/"+url.PathEscape(sp.d), sp.alice, `{}`, 200)
	ts.call(t, "POST", "/_matrix/client/v3/join/"+url.PathEscape(sp.s), sp.bob, `{}`, 200)
	return sp
}

// hierarchy returns the room names of one page and its next_batch.
func (sp *space) hierarchy(t *testing.T, token, root, query string) ([]string, string, map[string]any) {
	t.Helper()
	resp := sp.ts.call(t, "GET", "/_matrix/client/v1/rooms/"+url.PathEscape(root)+"/hierarchy?"+query, token, "", 200)
	var names []string
	rooms, _ := resp["rooms"].([]any)
	for _, r := range rooms {
		m := r.(map[string]any)
		names = append(names, sp.names[m["room_id"].(string)])
	}
	next, _ := resp["next_batch"].(string)
	return names, next, resp
}

func TestSpaceHierarchy(t *testing.T) {
	eachServer(t, func(cfg *configs.Config) { cfg.Registration.Mode = configs.RegistrationOpen }, func(t *testing.T, ts *testServer) {
		sp := newSpace(t, ts)
		cases := []struct {
			name, token, query, want string
		}{
			{"bob sees what he may join", sp.bob, "", "S,S2,D,E,A"},
			{"alice sees her private room", sp.alice, "", "S,S2,D,E,A,P"},
			{"max_depth 1", sp.bob, "max_depth=1", "S,S2,A"},
			{"max_depth 0", sp.bob, "max_depth=0", "S"},
			{"suggested only", sp.bob, "suggested_only=true", "S,A"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, next, _ := sp.hierarchy(t, tc.token, sp.s, tc.query)
				if strings.Join(got, ",") != tc.want || next != "" {
					t.Fatalf("rooms %v next %q, want %s", got, next, tc.want)
				}
			})
		}
		t.Run("pages", func(t *testing.T) {
			var pages []string
			query := "limit=2"
			for range 5 {
				got, next, _ := sp.hierarchy(t, sp.bob, sp.s, query)
				pages = append(pages, strings.Join(got, ","))
				if next == "" {
					break
				}
				query = "limit=2&from=" + url.QueryEscape(next)
			}
			if strings.Join(pages, "|") != "S,S2|D,E|A" {
				t.Fatalf("pages %v", pages)
			}
		})
		t.Run("summary and children_state", func(t *testing.T) {
			_, _, resp := sp.hierarchy(t, sp.bob, sp.s, "max_depth=1")
			rooms := resp["rooms"].([]any)
			root := rooms[0].(map[string]any)
			if root["room_type"] != "m.space" || root["join_rule"] != "public" || root["num_joined_members"] != float64(2) {
				t.Fatalf("root summary %v", root)
			}
			if cs := root["children_state"].([]any); len(cs) != 4 {
				t.Fatalf("children_state %v", cs)
			}
			a := rooms[2].(map[string]any)
			if a["topic"] != "the A room" || len(a["children_state"].([]any)) != 0 {
				t.Fatalf("A summary %v", a)
			}
		})
		_, next, _ := sp.hierarchy(t, sp.bob, sp.s, "limit=1")
		bad := []struct {
			name, root, token, query string
			status                   int
			errcode                  string
		}{
			{"limit 0", sp.s, sp.bob, "limit=0", 400, "M_INVALID_PARAM"},
			{"limit not a number", sp.s, sp.bob, "limit=x", 400, "M_INVALID_PARAM"},
			{"negative max_depth", sp.s, sp.bob, "max_depth=-1", 400, "M_INVALID_PARAM"},
			{"bad suggested_only", sp.s, sp.bob, "suggested_only=yes", 400, "M_INVALID_PARAM"},
			{"unknown from", sp.s, sp.bob, "from=zzz", 400, "M_INVALID_PARAM"},
			{"max_depth changed", sp.s, sp.bob, "max_depth=1&from=" + url.QueryEscape(next), 400, "M_INVALID_PARAM"},
			{"private root", sp.p, sp.bob, "", 403, "M_FORBIDDEN"},
			{"unknown root", "!nope:kabar.test", sp.bob, "", 403, "M_FORBIDDEN"},
			{"bad room ID", "nope", sp.bob, "", 400, "M_INVALID_PARAM"},
			{"no token", sp.s, "", "", 401, "M_MISSING_TOKEN"},
		}
		for _, tc := range bad {
			t.Run(tc.name, func(t *testing.T) {
				resp := ts.call(t, "GET", "/_matrix/client/v1/rooms/"+url.PathEscape(tc.root)+"/hierarchy?"+tc.query, tc.token, "", tc.status)
				if resp["errcode"] != tc.errcode {
					t.Fatalf("%v, want %s", resp, tc.errcode)
				}
			})
		}
	})
}
