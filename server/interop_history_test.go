package main

import (
	"fmt"
	"net/url"
	"testing"
	"time"
)

// messagesSeen polls GET /messages backwards from the end until every body
// in want is in the room's history; servers fetch what they lack through
// federation backfill (spec: server-server API, "Backfilling and retrieving
// missing events").
func messagesSeen(t *testing.T, get func(path string) map[string]any, room string, want []string) {
	t.Helper()
	path := roomPath(room) + "/messages?dir=b&limit=50"
	deadline := time.Now().Add(20 * time.Second)
	var last map[string]any
	for time.Now().Before(deadline) {
		last = get(path)
		seen := map[string]bool{}
		chunk, _ := last["chunk"].([]any)
		for _, ev := range chunk {
			if b, ok := dig(ev, "content", "body").(string); ok {
				seen[b] = true
			}
		}
		missing := 0
		for _, w := range want {
			if !seen[w] {
				missing++
			}
		}
		if missing == 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("history of %s never had %v: %v", room, want, last)
}

// interopHistory: each side joins, by alias, a room the other side filled
// with messages before the join, and reads that history through /messages
// (the joining server backfills it).
func interopHistory(t *testing.T, hs *fedServer, r *remoteHS, alice, bob string) {
	kabar := interopSide{name: "kabar", server: hs.ServerName, token: alice, c: hs}
	remote := interopSide{name: r.Name, server: r.ServerName, token: bob, c: r}
	for _, d := range []struct {
		owner, joiner interopSide
		alias         string
	}{{kabar, remote, "khist"}, {remote, kabar, "rhist"}} {
		t.Run(d.joiner.name+" backfills from "+d.owner.name, func(t *testing.T) {
			room := d.owner.c.call(t, "POST", "/_matrix/client/v3/createRoom", d.owner.token,
				`{"preset":"public_chat","room_version":"11","room_alias_name":"`+d.alias+`"}`, 200)["room_id"].(string)
			var bodies []string
			for i := range 5 {
				body := fmt.Sprintf("%s history %d", d.owner.name, i)
				d.owner.c.call(t, "PUT", roomPath(room)+fmt.Sprintf("/send/m.room.message/%s%d", d.alias, i), d.owner.token,
					`{"msgtype":"m.text","body":"`+body+`"}`, 200)
				bodies = append(bodies, body)
			}
			alias := "#" + d.alias + ":" + d.owner.server
			if got := d.joiner.c.call(t, "POST", "/_matrix/client/v3/join/"+url.PathEscape(alias), d.joiner.token, `{}`, 200)["room_id"]; got != room {
				t.Fatalf("%s joined %v, want %s", d.joiner.name, got, room)
			}
			messagesSeen(t, func(p string) map[string]any { return d.joiner.c.call(t, "GET", p, d.joiner.token, "", 200) }, room, bodies)
		})
	}
}
