package main

import (
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kabarchat/kabar/models/spec"
)

// outageMessages is how many messages one side sends while the other is
// down: the size of one transaction (server-server-api "Transactions"
// allows 50 PDUs), so the backlog fits one retry.
const outageMessages = 50

// outageDeadline bounds how long after the restart the backlog may take to
// arrive: a restarted Synapse needs most of a minute before it answers, and
// Kabar's backoff (2s doubling, ±25%) has grown to about a minute by then.
const outageDeadline = 3 * time.Minute

// interopOutage: in a room alice@kabar and bob@remote share, each server in
// turn is killed while the other one's user sends a backlog of messages;
// after the restart, with the same configuration and data, every message
// arrives on the restarted server, once each and in order. This is what an
// organization needs from its partners' servers: nothing lost to a crash or
// a maintenance window (server-server-api "Transactions": the sender keeps
// retrying; "Retrieving events" lets the receiver fill a gap itself).
func interopOutage(t *testing.T, hs *fedServer, r *remoteHS, alice, bob string) {
	bobID := "@bob:" + r.ServerName
	room := hs.call(t, "POST", "/_matrix/client/v3/createRoom", alice,
		`{"preset":"public_chat","room_version":"10"}`, 200)["room_id"].(string)
	r.call(t, "POST", "/_matrix/client/v3/join/"+url.PathEscape(room)+"?via="+url.QueryEscape(hs.ServerName), bob, `{}`, 200)
	waitMembership(t, hs.testServer, room, bobID, "join")

	t.Run(r.Name+" down", func(t *testing.T) {
		// Synapse joins with partial state and then fetches the rest from
		// Kabar; killed before that finished, it resumes on restart and its
		// requests wake Kabar's queue at once. /members waits for the full
		// state, so the restarted server is idle and Kabar's own retries
		// must deliver the backlog.
		r.call(t, "GET", roomPath(room)+"/members", bob, "", 200)
		r.stop(t)
		var want []string
		var last string
		for i := range outageMessages {
			body := fmt.Sprintf("while %s was down %02d", r.Name, i)
			last = hs.call(t, "PUT", roomPath(room)+fmt.Sprintf("/send/m.room.message/out%d", i), alice,
				`{"msgtype":"m.text","body":"`+body+`"}`, 200)["event_id"].(string)
			want = append(want, body)
		}
		dest := spec.ServerName(r.ServerName)
		before := hs.srv.fed.sender.Status(dest)
		restarted := time.Now()
		r.restart(t)
		up := time.Since(restarted)
		// Polled by ID first: /messages would make Synapse backfill from
		// Kabar, and that request would wake Kabar's queue.
		took := waitUntil(t, "the last message on "+r.Name, func() bool {
			code, _ := r.do(t, "GET", roomPath(room)+"/event/"+url.PathEscape(last), bob, "")
			return code == 200
		})
		deliveredInOrder(t, func(p string) map[string]any { return r.call(t, "GET", p, bob, "", 200) },
			r.Name, room, "while "+r.Name+" was down ", want)
		after := hs.srv.fed.sender.Status(dest)
		t.Logf("%s answered %v after its restart; the %d messages were on it %v after that; "+
			"kabar's queue to it: %d failed attempts before the restart, %d attempts in all",
			r.Name, up.Round(time.Second), outageMessages, took.Round(time.Second), before.Failures, after.Attempts)
		// Whether the restarted server contacted Kabar (which wakes Kabar's
		// queue at once) or Kabar's backoff ran out first: its log tells.
		t.Logf("%s's log since the restart, lines naming kabar:\n%s", r.Name, r.logSinceRestart(hs.ServerName, 8))
	})

	t.Run("kabar down", func(t *testing.T) {
		var want []string
		restartKabar(hs, func() {
			for i := range outageMessages {
				body := fmt.Sprintf("while kabar was down %02d", i)
				r.call(t, "PUT", roomPath(room)+fmt.Sprintf("/send/m.room.message/out%d", i), bob,
					`{"msgtype":"m.text","body":"`+body+`"}`, 200)
				want = append(want, body)
			}
			// Let the remote try and fail at least once, so it backs off.
			time.Sleep(3 * time.Second)
		})
		// Synapse waits 10 minutes before its first retry of a server that
		// failed; a request from that server resets the wait (Synapse's
		// Authenticator.reset_retry_timings), as it would in a real
		// federation where Kabar's users keep talking.
		hs.call(t, "PUT", roomPath(room)+"/send/m.room.message/back", alice, `{"msgtype":"m.text","body":"kabar is back"}`, 200)
		took := deliveredInOrder(t, func(p string) map[string]any { return hs.call(t, "GET", p, alice, "", 200) },
			"kabar", room, "while kabar was down ", want)
		t.Logf("the %d messages were on kabar %v after its restart", outageMessages, took.Round(time.Second))
	})
}

// waitUntil polls ok every 200ms for outageDeadline and returns how long it
// took to hold.
func waitUntil(t *testing.T, what string, ok func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < outageDeadline {
		if ok() {
			return time.Since(start)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no %s after %v", what, outageDeadline)
	return 0
}

// deliveredInOrder polls the room's history on one server (get answers a
// client API GET) until it has len(want) messages whose body starts with
// prefix, and checks they are want in order, each event once. It returns
// how long that took.
func deliveredInOrder(t *testing.T, get func(path string) map[string]any, name, room, prefix string, want []string) time.Duration {
	t.Helper()
	start := time.Now()
	var got []string
	for time.Since(start) < outageDeadline {
		res := get(roomPath(room) + "/messages?dir=b&limit=200")
		got = got[:0]
		ids := map[string]bool{}
		chunk, _ := res["chunk"].([]any)
		for _, ev := range chunk {
			b, _ := dig(ev, "content", "body").(string)
			if !strings.HasPrefix(b, prefix) {
				continue
			}
			id, _ := dig(ev, "event_id").(string)
			if ids[id] {
				t.Fatalf("%s lists %s (%q) twice", name, id, b)
			}
			ids[id] = true
			got = append(got, b)
		}
		if len(got) >= len(want) {
			slices.Reverse(got)
			if !slices.Equal(got, want) {
				t.Fatalf("%s lists the backlog as %q, want %q", name, got, want)
			}
			return time.Since(start)
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("%s has %d of the %d messages after %v", name, len(got), len(want), outageDeadline)
	return 0
}

// logSinceRestart returns up to max lines of the server's log since its last
// stop that contain substr.
func (r *remoteHS) logSinceRestart(substr string, max int) string {
	data, _ := os.ReadFile(r.log)
	text := string(data)
	if i := strings.LastIndex(text, stopMarker); i >= 0 {
		text = text[i:]
	}
	var out []string
	for line := range strings.SplitSeq(text, "\n") {
		if strings.Contains(line, substr) && len(out) < max {
			out = append(out, "\t"+line[:min(len(line), 240)])
		}
	}
	return strings.Join(out, "\n")
}

// restartKabar stops hs, runs down (the outage) and starts it again on the
// same database, data directory and federation address; hs then points at
// the new server, whose client API has a new port.
func restartKabar(hs *fedServer, down func()) {
	hs.rs.stop()
	down()
	hs.rs.start()
	hs.testServer = hs.rs.testServer
}
