package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kabarchat/kabar/models/store/storetest"
)

// The interop tests run Kabar against real homeservers of other
// implementations over federation: TestInteropDendrite and TestInteropSynapse.
// Each needs its server installed, so it skips unless its environment
// variable is set; `make interop-dendrite` and `make interop-synapse` set them
// up. They are not part of `make test`.

// apiCaller is a client API both Kabar (fedServer) and a remoteHS answer.
type apiCaller interface {
	call(t *testing.T, method, path, token, body string, want int) map[string]any
}

// interopSide is one user on one server of an interop test.
type interopSide struct {
	name, server, token string
	c                   apiCaller
}

// interopPair starts Kabar on 127.0.0.2 (restartable: interopOutage) and,
// with start, the other server, and registers alice@kabar and bob@remote.
func interopPair(t *testing.T, start func(*testCA) *remoteHS) (hs *fedServer, r *remoteHS, alice, bob string) {
	t.Helper()
	ca := newTestCA(t)
	rs := newRestartable(t, ca, "127.0.0.2", storetest.URLs(t)[0].URL, nil)
	hs = &fedServer{testServer: rs.testServer, ServerName: rs.ServerName, rs: rs}
	r = start(ca)
	return hs, r, hs.register(t, "alice", "password-alice"), r.register(t, "bob", "password-bob")
}

// remoteHS is a running homeserver of another implementation: federation on
// ServerName over TLS (certificate from the test CA), the client API over
// plain HTTP at URL, its output in log.
type remoteHS struct {
	Name       string // "dendrite", "synapse": in messages and subtest names
	ServerName string // "127.0.0.x:port", an IP literal: no discovery needed
	URL        string
	log        string
	// lacks names the shared scenarios this server cannot take part in,
	// with the reason the test skips them with.
	lacks map[string]string

	newCmd  func() *exec.Cmd // the server's command line, for each (re)start
	startup time.Duration
	logFile *os.File
	proc    *exec.Cmd
	exited  chan struct{} // closed when proc has exited
}

// start runs newCmd with its output in r.log, waits up to startup for the
// client API to answer, and kills it when the test ends; the log is dumped
// when the test failed (or KABAR_TEST_LOG is set). stop and restart take it
// down and up again with the same configuration and data.
func (r *remoteHS) start(t *testing.T, newCmd func() *exec.Cmd, startup time.Duration) {
	t.Helper()
	logFile, err := os.Create(r.log)
	if err != nil {
		t.Fatal(err)
	}
	r.newCmd, r.startup, r.logFile = newCmd, startup, logFile
	t.Cleanup(func() {
		r.kill()
		logFile.Close()
		if t.Failed() || os.Getenv("KABAR_TEST_LOG") != "" {
			r.dumpLog(t)
		}
	})
	r.restart(t)
}

// restart starts the server's process (again) and waits until it answers.
func (r *remoteHS) restart(t *testing.T) {
	t.Helper()
	cmd := r.newCmd()
	cmd.Stdout, cmd.Stderr = r.logFile, r.logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", r.Name, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	r.proc, r.exited = cmd, exited
	r.waitUp(t, exited, r.startup)
}

// stop kills the server's process (SIGKILL: an outage, not a clean
// shutdown) and waits for it to exit; its data stays for restart.
func (r *remoteHS) stop(t *testing.T) {
	t.Helper()
	r.kill()
	fmt.Fprintln(r.logFile, stopMarker)
}

// stopMarker is written into a remote server's log where stop killed it.
const stopMarker = "==== kabar interop test: killed here ===="

func (r *remoteHS) kill() {
	if r.proc == nil {
		return
	}
	r.proc.Process.Kill()
	<-r.exited
	r.proc = nil
}

func (r *remoteHS) dumpLog(t *testing.T) {
	data, _ := os.ReadFile(r.log)
	lines := strings.Split(string(data), "\n")
	if len(lines) > 300 && os.Getenv("KABAR_TEST_LOG") == "" {
		lines = lines[len(lines)-300:]
	}
	t.Logf("%s log %s (last %d lines):\n%s", r.Name, r.log, len(lines), strings.Join(lines, "\n"))
}

func (r *remoteHS) waitUp(t *testing.T, exited <-chan struct{}, startup time.Duration) {
	t.Helper()
	deadline := time.Now().Add(startup)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			t.Fatalf("%s exited during startup", r.Name)
		default:
		}
		if resp, err := http.Get(r.URL + "/_matrix/client/versions"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not come up within %s", r.Name, startup)
}

// do sends a client API request and returns status and body.
func (r *remoteHS) do(t *testing.T, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, r.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s %s: %v", r.Name, method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	json.Unmarshal(data, &out)
	if out == nil {
		out = map[string]any{"raw": string(data)}
	}
	return resp.StatusCode, out
}

func (r *remoteHS) call(t *testing.T, method, path, token, body string, want int) map[string]any {
	t.Helper()
	code, out := r.do(t, method, path, token, body)
	if code != want {
		t.Fatalf("%s %s %s: %d %v", r.Name, method, path, code, out)
	}
	return out
}

// register creates a user through the user-interactive flow: the first
// request opens a session, the second completes m.login.dummy in it.
func (r *remoteHS) register(t *testing.T, user, password string) string {
	t.Helper()
	body := `{"username":"` + user + `","password":"` + password + `"}`
	code, first := r.do(t, "POST", "/_matrix/client/v3/register", "", body)
	if code != 401 {
		t.Fatalf("%s register: %d %v", r.Name, code, first)
	}
	session, _ := first["session"].(string)
	body = `{"username":"` + user + `","password":"` + password +
		`","auth":{"type":"m.login.dummy","session":"` + session + `"}}`
	token, _ := r.call(t, "POST", "/_matrix/client/v3/register", "", body, 200)["access_token"].(string)
	return token
}

// waitEvent polls /rooms/{room}/event/{id} until the user can see it.
func (r *remoteHS) waitEvent(t *testing.T, token, room, eventID string) map[string]any {
	t.Helper()
	path := roomPath(room) + "/event/" + url.PathEscape(eventID)
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, ev := r.do(t, "GET", path, token, "")
		if code == 200 {
			return ev
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never got %s: %d %v", r.Name, eventID, code, ev)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// syncUntil long-polls /sync from since until ok accepts a response; it
// fails the test after 30 seconds.
func (r *remoteHS) syncUntil(t *testing.T, token, since, what string, ok func(map[string]any) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		path := "/_matrix/client/v3/sync?timeout=1000"
		if since != "" {
			path += "&since=" + url.QueryEscape(since)
		}
		res := r.call(t, "GET", path, token, "", 200)
		if ok(res) {
			return
		}
		since, _ = res["next_batch"].(string)
	}
	t.Fatalf("%s sync never showed %s", r.Name, what)
}

// waitInvite polls /sync until room shows up among the invites.
func (r *remoteHS) waitInvite(t *testing.T, token, room string) {
	t.Helper()
	r.syncUntil(t, token, "", "the invite to "+room, func(res map[string]any) bool {
		return dig(res, "rooms", "invite", room) != nil
	})
}

// membership is user's membership in room as the token's owner sees it.
func (r *remoteHS) membership(t *testing.T, token, room, user string) string {
	t.Helper()
	code, ev := r.do(t, "GET", roomPath(room)+"/state/m.room.member/"+url.PathEscape(user), token, "")
	if code != 200 {
		return ""
	}
	m, _ := ev["membership"].(string)
	return m
}

// waitMembership polls until the remote sees user's membership in room as want.
func (r *remoteHS) waitMembership(t *testing.T, token, room, user, want string) {
	t.Helper()
	r.syncUntil(t, token, "", user+" "+want+" in "+room, func(map[string]any) bool {
		return r.membership(t, token, room, user) == want
	})
}

// interopRooms is the scenario set both interop tests run between alice@kabar
// and bob@remote: rooms created on either side (joined after an invite and by
// room ID with via), EDUs, backfilled history, profiles, declined invites, a
// kick, knocks and restricted joins, and a backlog delivered across each
// server's outage.
func interopRooms(t *testing.T, hs *fedServer, r *remoteHS, alice, bob string) {
	aliceID, bobID := "@alice:"+hs.ServerName, "@bob:"+r.ServerName
	var room string // empty when -run leaves "kabar room" out
	ok := t.Run("kabar room", func(t *testing.T) {
		room = hs.call(t, "POST", "/_matrix/client/v3/createRoom", alice,
			`{"preset":"private_chat","room_version":"10"}`, 200)["room_id"].(string)
		hs.call(t, "POST", roomPath(room)+"/invite", alice, `{"user_id":"`+bobID+`"}`, 200)
		r.waitInvite(t, bob, room)
		r.call(t, "POST", "/_matrix/client/v3/join/"+url.PathEscape(room)+"?server_name="+
			url.QueryEscape(hs.ServerName), bob, `{}`, 200)
		waitMembership(t, hs.testServer, room, bobID, "join")
		fromAlice := hs.call(t, "PUT", roomPath(room)+"/send/m.room.message/k1", alice,
			`{"msgtype":"m.text","body":"hello bob"}`, 200)["event_id"].(string)
		if ev := r.waitEvent(t, bob, room, fromAlice); dig(ev, "content", "body") != "hello bob" {
			t.Errorf("%s served alice's message as %v", r.Name, ev)
		}
		fromBob := r.call(t, "PUT", roomPath(room)+"/send/m.room.message/d1", bob,
			`{"msgtype":"m.text","body":"hello alice"}`, 200)["event_id"].(string)
		waitEvent(t, hs.testServer, fromBob)
	})
	if !ok {
		t.FailNow()
	}
	if room != "" {
		t.Run("edus", func(t *testing.T) { interopEDUs(t, hs, r, room, alice, bob) })
	}
	t.Run("history", func(t *testing.T) { interopHistory(t, hs, r, alice, bob) })
	t.Run("profiles", func(t *testing.T) {
		hs.call(t, "PUT", "/_matrix/client/v3/profile/"+url.PathEscape(aliceID)+"/displayname", alice, `{"displayname":"Alice K"}`, 200)
		r.call(t, "PUT", "/_matrix/client/v3/profile/"+url.PathEscape(bobID)+"/displayname", bob, `{"displayname":"Bob R"}`, 200)
		if got := hs.call(t, "GET", "/_matrix/client/v3/profile/"+url.PathEscape(bobID), alice, "", 200); got["displayname"] != "Bob R" {
			t.Errorf("kabar's view of bob's profile: %v", got)
		}
		if got := r.call(t, "GET", "/_matrix/client/v3/profile/"+url.PathEscape(aliceID), bob, "", 200); got["displayname"] != "Alice K" {
			t.Errorf("%s's view of alice's profile: %v", r.Name, got)
		}
	})
	t.Run(r.Name+" invite", func(t *testing.T) {
		priv := r.call(t, "POST", "/_matrix/client/v3/createRoom", bob,
			`{"preset":"private_chat","room_version":"10","invite":["`+aliceID+`"]}`, 200)["room_id"].(string)
		waitMembership(t, hs.testServer, priv, aliceID, "invite")
		hs.call(t, "POST", "/_matrix/client/v3/join/"+url.PathEscape(priv), alice, `{}`, 200)
		msg := hs.call(t, "PUT", roomPath(priv)+"/send/m.room.message/k3", alice,
			`{"msgtype":"m.text","body":"in private"}`, 200)["event_id"].(string)
		r.waitEvent(t, bob, priv, msg)
		hs.call(t, "POST", roomPath(priv)+"/leave", alice, `{}`, 200)
		r.waitMembership(t, bob, priv, aliceID, "leave")
	})
	t.Run("rejected invites", func(t *testing.T) {
		// bob declines on the remote: make_leave/send_leave to Kabar.
		kroom := hs.call(t, "POST", "/_matrix/client/v3/createRoom", alice,
			`{"preset":"private_chat","room_version":"10","invite":["`+bobID+`"]}`, 200)["room_id"].(string)
		r.waitInvite(t, bob, kroom)
		r.call(t, "POST", roomPath(kroom)+"/leave", bob, `{}`, 200)
		waitMembership(t, hs.testServer, kroom, bobID, "leave")
		// alice declines on Kabar: make_leave/send_leave to the remote.
		rroom := r.call(t, "POST", "/_matrix/client/v3/createRoom", bob,
			`{"preset":"private_chat","room_version":"10","invite":["`+aliceID+`"]}`, 200)["room_id"].(string)
		waitMembership(t, hs.testServer, rroom, aliceID, "invite")
		hs.call(t, "POST", roomPath(rroom)+"/leave", alice, `{}`, 200)
		r.waitMembership(t, bob, rroom, aliceID, "leave")
	})
	t.Run("kick", func(t *testing.T) {
		if room == "" {
			t.Skip("no room: kabar room did not run")
		}
		hs.call(t, "POST", roomPath(room)+"/kick", alice, `{"user_id":"`+bobID+`","reason":"bye"}`, 200)
		r.syncUntil(t, bob, "", "bob kicked", func(res map[string]any) bool {
			return dig(res, "rooms", "leave", room) != nil
		})
	})
	t.Run(r.Name+" room", func(t *testing.T) {
		room := r.call(t, "POST", "/_matrix/client/v3/createRoom", bob,
			`{"preset":"public_chat","room_version":"10"}`, 200)["room_id"].(string)
		hs.call(t, "POST", "/_matrix/client/v3/join/"+url.PathEscape(room)+"?via="+
			url.QueryEscape(r.ServerName), alice, `{}`, 200)
		waitMembership(t, hs.testServer, room, aliceID, "join")
		fromBob := r.call(t, "PUT", roomPath(room)+"/send/m.room.message/d2", bob,
			`{"msgtype":"m.text","body":"welcome alice"}`, 200)["event_id"].(string)
		waitEvent(t, hs.testServer, fromBob)
		fromAlice := hs.call(t, "PUT", roomPath(room)+"/send/m.room.message/k2", alice,
			`{"msgtype":"m.text","body":"thanks bob"}`, 200)["event_id"].(string)
		if ev := r.waitEvent(t, bob, room, fromAlice); dig(ev, "content", "body") != "thanks bob" {
			t.Errorf("%s served alice's message as %v", r.Name, ev)
		}
		if m := r.membership(t, bob, room, aliceID); m != "join" {
			t.Errorf("%s sees alice as %v", r.Name, m)
		}
	})
	t.Run("join rules", func(t *testing.T) { interopJoinRules(t, hs, r, alice, bob) })
	// Last: it kills and restarts each server.
	t.Run("outage", func(t *testing.T) { interopOutage(t, hs, r, alice, bob) })
}
