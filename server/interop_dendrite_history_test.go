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
// with messages before the join, and reads that history through /messages.
func interopHistory(t *testing.T, hs *fedServer, d *dendrite, alice, bob string) {
	t.Run("dendrite backfills from kabar", func(t *testing.T) {
		room := hs.call(t, "POST", "/_matrix/client/v3/createRoom", alice,
			`{"preset":"public_chat","room_version":"11","room_alias_name":"khist"}`, 200)["room_id"].(string)
		var bodies []string
		for i := range 5 {
			body := fmt.Sprintf("kabar history %d", i)
			hs.call(t, "PUT", roomPath(room)+fmt.Sprintf("/send/m.room.message/kh%d", i), alice,
				`{"msgtype":"m.text","body":"`+body+`"}`, 200)
			bodies = append(bodies, body)
		}
		alias := "#khist:" + hs.ServerName
		if got := d.call(t, "POST", "/_matrix/client/v3/join/"+url.PathEscape(alias), bob, `{}`, 200)["room_id"]; got != room {
			t.Fatalf("dendrite joined %v, want %s", got, room)
		}
		messagesSeen(t, func(p string) map[string]any { return d.call(t, "GET", p, bob, "", 200) }, room, bodies)
	})
	t.Run("kabar backfills from dendrite", func(t *testing.T) {
		// Kabar's /messages backfills the history before its join.
		room := d.call(t, "POST", "/_matrix/client/v3/createRoom", bob,
			`{"preset":"public_chat","room_version":"11","room_alias_name":"dhist"}`, 200)["room_id"].(string)
		var bodies []string
		for i := range 5 {
			body := fmt.Sprintf("dendrite history %d", i)
			d.call(t, "PUT", roomPath(room)+fmt.Sprintf("/send/m.room.message/dh%d", i), bob,
				`{"msgtype":"m.text","body":"`+body+`"}`, 200)
			bodies = append(bodies, body)
		}
		alias := "#dhist:" + d.ServerName
		if got := hs.call(t, "POST", "/_matrix/client/v3/join/"+url.PathEscape(alias), alice, `{}`, 200)["room_id"]; got != room {
			t.Fatalf("kabar joined %v, want %s", got, room)
		}
		messagesSeen(t, func(p string) map[string]any { return hs.call(t, "GET", p, alice, "", 200) }, room, bodies)
	})
}
