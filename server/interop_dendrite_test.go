package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/kabarchat/kabar/models/store/storetest"
)

// The interop test runs Kabar against a real Dendrite (github.com/matrix-org/
// dendrite, Apache-2.0) over federation. It needs the dendrite, generate-config
// and generate-keys binaries, so it only runs when KABAR_INTEROP_DENDRITE names
// the dendrite binary (the other two are looked up beside it): `make
// interop-dendrite` builds them into bin/tools and runs it. It is not part of
// `make test`.

// dendrite is a running Dendrite monolith on 127.0.0.3.
type dendrite struct {
	ServerName string // "127.0.0.3:port", the HTTPS listener (federation)
	URL        string // plain-HTTP client API
	dir        string
	log        string
}

// startDendrite writes a Dendrite config (SQLite, in-memory JetStream, open
// registration, no key notaries, a federation TLS certificate from ca) and
// starts the monolith; it is killed when the test ends.
func startDendrite(t *testing.T, ca *testCA, bin string) *dendrite {
	t.Helper()
	dir := t.TempDir()
	tools := filepath.Dir(bin)
	name := freeAddr(t, "127.0.0.3")
	clientAddr := freeAddr(t, "127.0.0.3")
	certFile, keyFile := ca.issue(t, "127.0.0.3")
	keyPath := filepath.Join(dir, "matrix_key.pem")
	runTool(t, dir, filepath.Join(tools, "generate-keys"), "--private-key", keyPath)
	raw := runTool(t, dir, filepath.Join(tools, "generate-config"), "-ci", "-server", name, "-dir", dir)
	cfgPath := filepath.Join(dir, "dendrite.yaml")
	if err := os.WriteFile(cfgPath, patchDendriteConfig(t, raw, keyPath), 0o600); err != nil {
		t.Fatal(err)
	}
	d := &dendrite{ServerName: name, URL: "http://" + clientAddr, dir: dir, log: filepath.Join(dir, "stderr.log")}
	logFile, err := os.Create(d.log)
	if err != nil {
		t.Fatal(err)
	}
	// Open registration is refused without this flag (no captcha here).
	cmd := exec.Command(bin, "--config", cfgPath, "--really-enable-open-registration", "--http-bind-address", clientAddr,
		"--https-bind-address", name, "--tls-cert", certFile, "--tls-key", keyFile)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dendrite: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		logFile.Close()
		if t.Failed() || os.Getenv("KABAR_TEST_LOG") != "" {
			d.dumpLog(t)
		}
	})
	d.waitUp(t, exited)
	return d
}

// patchDendriteConfig adjusts generate-config's CI defaults: our signing
// key, no TLS validation towards Kabar (its certificate comes from the test
// CA), logs to stderr at info, no MSCs.
func patchDendriteConfig(t *testing.T, raw []byte, keyPath string) []byte {
	t.Helper()
	var cfg map[string]any
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatalf("dendrite config: %v", err)
	}
	section := func(name string) map[string]any {
		m, _ := cfg[name].(map[string]any)
		if m == nil {
			t.Fatalf("dendrite config has no %s section", name)
		}
		return m
	}
	section("global")["private_key"] = keyPath
	section("federation_api")["disable_tls_validation"] = true
	section("mscs")["mscs"] = []string{}
	level := "info"
	if os.Getenv("KABAR_TEST_LOG") != "" {
		level = "debug"
	}
	cfg["logging"] = []map[string]any{{"type": "std", "level": level}}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// runTool executes a Dendrite tool and returns its standard output.
func runTool(t *testing.T, dir, bin string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", bin, args, err, stderr.String())
	}
	return out
}

func (d *dendrite) dumpLog(t *testing.T) {
	data, _ := os.ReadFile(d.log)
	lines := strings.Split(string(data), "\n")
	if len(lines) > 200 && os.Getenv("KABAR_TEST_LOG") == "" {
		lines = lines[len(lines)-200:]
	}
	t.Logf("dendrite log (last %d lines):\n%s", len(lines), strings.Join(lines, "\n"))
}

func (d *dendrite) waitUp(t *testing.T, exited <-chan struct{}) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			t.Fatal("dendrite exited during startup")
		default:
		}
		if resp, err := http.Get(d.URL + "/_matrix/client/versions"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("dendrite did not come up within 30s")
}

// do sends a client API request to Dendrite and returns status and body.
func (d *dendrite) do(t *testing.T, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, d.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("dendrite %s %s: %v", method, path, err)
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

func (d *dendrite) call(t *testing.T, method, path, token, body string, want int) map[string]any {
	t.Helper()
	code, out := d.do(t, method, path, token, body)
	if code != want {
		t.Fatalf("dendrite %s %s: %d %v", method, path, code, out)
	}
	return out
}

// register creates a user through the user-interactive flow: the first
// request opens a session, the second completes m.login.dummy in it.
func (d *dendrite) register(t *testing.T, user, password string) string {
	t.Helper()
	body := `{"username":"` + user + `","password":"` + password + `"}`
	code, first := d.do(t, "POST", "/_matrix/client/v3/register", "", body)
	if code != 401 {
		t.Fatalf("dendrite register: %d %v", code, first)
	}
	session, _ := first["session"].(string)
	body = `{"username":"` + user + `","password":"` + password +
		`","auth":{"type":"m.login.dummy","session":"` + session + `"}}`
	token, _ := d.call(t, "POST", "/_matrix/client/v3/register", "", body, 200)["access_token"].(string)
	return token
}

// waitEvent polls Dendrite's /rooms/{room}/event/{id} until bob can see it.
func (d *dendrite) waitEvent(t *testing.T, token, room, eventID string) map[string]any {
	t.Helper()
	path := roomPath(room) + "/event/" + url.PathEscape(eventID)
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, ev := d.do(t, "GET", path, token, "")
		if code == 200 {
			return ev
		}
		if time.Now().After(deadline) {
			t.Fatalf("dendrite never got %s: %d %v", eventID, code, ev)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// syncUntil long-polls Dendrite's /sync from since until ok accepts a
// response; it fails the test after 20 seconds.
func (d *dendrite) syncUntil(t *testing.T, token, since, what string, ok func(map[string]any) bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		path := "/_matrix/client/v3/sync?timeout=1000"
		if since != "" {
			path += "&since=" + url.QueryEscape(since)
		}
		res := d.call(t, "GET", path, token, "", 200)
		if ok(res) {
			return
		}
		since, _ = res["next_batch"].(string)
	}
	t.Fatalf("dendrite sync never showed %s", what)
}

// waitInvite polls Dendrite's /sync until room shows up among the invites.
func (d *dendrite) waitInvite(t *testing.T, token, room string) {
	t.Helper()
	d.syncUntil(t, token, "", "the invite to "+room, func(res map[string]any) bool {
		return dig(res, "rooms", "invite", room) != nil
	})
}

// TestInteropDendrite: alice@kabar and bob@dendrite chat in a room each
// server created, over real federation with TLS on both sides.
func TestInteropDendrite(t *testing.T) {
	bin := os.Getenv("KABAR_INTEROP_DENDRITE")
	if bin == "" {
		t.Skip("KABAR_INTEROP_DENDRITE is not set (make interop-dendrite)")
	}
	ca := newTestCA(t)
	hs := startFedServer(t, ca, "127.0.0.2", storetest.URLs(t)[0].URL)
	d := startDendrite(t, ca, bin)
	alice := hs.register(t, "alice", "password-alice")
	bob := d.register(t, "bob", "password-bob")
	aliceID, bobID := "@alice:"+hs.ServerName, "@bob:"+d.ServerName

	var room string
	t.Run("kabar room", func(t *testing.T) {
		room = hs.call(t, "POST", "/_matrix/client/v3/createRoom", alice,
			`{"preset":"private_chat","room_version":"10"}`, 200)["room_id"].(string)
		hs.call(t, "POST", roomPath(room)+"/invite", alice, `{"user_id":"`+bobID+`"}`, 200)
		d.waitInvite(t, bob, room)
		d.call(t, "POST", "/_matrix/client/v3/join/"+url.PathEscape(room)+"?server_name="+
			url.QueryEscape(hs.ServerName), bob, `{}`, 200)
		waitMembership(t, hs.testServer, room, bobID, "join")
		fromAlice := hs.call(t, "PUT", roomPath(room)+"/send/m.room.message/k1", alice,
			`{"msgtype":"m.text","body":"hello bob"}`, 200)["event_id"].(string)
		if ev := d.waitEvent(t, bob, room, fromAlice); dig(ev, "content", "body") != "hello bob" {
			t.Errorf("dendrite served alice's message as %v", ev)
		}
		fromBob := d.call(t, "PUT", roomPath(room)+"/send/m.room.message/d1", bob,
			`{"msgtype":"m.text","body":"hello alice"}`, 200)["event_id"].(string)
		waitEvent(t, hs.testServer, fromBob)
	})
	if room == "" {
		t.FailNow()
	}
	t.Run("edus", func(t *testing.T) { interopEDUs(t, hs, d, room, alice, bob) })
	t.Run("history", func(t *testing.T) { interopHistory(t, hs, d, alice, bob) })
	t.Run("profiles", func(t *testing.T) {
		hs.call(t, "PUT", "/_matrix/client/v3/profile/"+url.PathEscape(aliceID)+"/displayname", alice, `{"displayname":"Alice K"}`, 200)
		d.call(t, "PUT", "/_matrix/client/v3/profile/"+url.PathEscape(bobID)+"/displayname", bob, `{"displayname":"Bob D"}`, 200)
		if got := hs.call(t, "GET", "/_matrix/client/v3/profile/"+url.PathEscape(bobID), alice, "", 200); got["displayname"] != "Bob D" {
			t.Errorf("kabar's view of bob's profile: %v", got)
		}
		if got := d.call(t, "GET", "/_matrix/client/v3/profile/"+url.PathEscape(aliceID), bob, "", 200); got["displayname"] != "Alice K" {
			t.Errorf("dendrite's view of alice's profile: %v", got)
		}
	})
	t.Run("dendrite invite", func(t *testing.T) {
		priv := d.call(t, "POST", "/_matrix/client/v3/createRoom", bob,
			`{"preset":"private_chat","room_version":"10","invite":["`+aliceID+`"]}`, 200)["room_id"].(string)
		waitMembership(t, hs.testServer, priv, aliceID, "invite")
		hs.call(t, "POST", "/_matrix/client/v3/join/"+url.PathEscape(priv), alice, `{}`, 200)
		msg := hs.call(t, "PUT", roomPath(priv)+"/send/m.room.message/k3", alice,
			`{"msgtype":"m.text","body":"in private"}`, 200)["event_id"].(string)
		d.waitEvent(t, bob, priv, msg)
		hs.call(t, "POST", roomPath(priv)+"/leave", alice, `{}`, 200)
		d.syncUntil(t, bob, "", "alice leaving", func(res map[string]any) bool {
			m, _ := dig(d.call(t, "GET", roomPath(priv)+"/state/m.room.member/"+url.PathEscape(aliceID), bob, "", 200), "membership").(string)
			return m == "leave"
		})
	})

	t.Run("rejected invites", func(t *testing.T) {
		// bob declines on Dendrite: make_leave/send_leave to Kabar.
		kroom := hs.call(t, "POST", "/_matrix/client/v3/createRoom", alice,
			`{"preset":"private_chat","room_version":"10","invite":["`+bobID+`"]}`, 200)["room_id"].(string)
		d.waitInvite(t, bob, kroom)
		d.call(t, "POST", roomPath(kroom)+"/leave", bob, `{}`, 200)
		waitMembership(t, hs.testServer, kroom, bobID, "leave")
		// alice declines on Kabar: make_leave/send_leave to Dendrite.
		droom := d.call(t, "POST", "/_matrix/client/v3/createRoom", bob,
			`{"preset":"private_chat","room_version":"10","invite":["`+aliceID+`"]}`, 200)["room_id"].(string)
		waitMembership(t, hs.testServer, droom, aliceID, "invite")
		hs.call(t, "POST", roomPath(droom)+"/leave", alice, `{}`, 200)
		d.syncUntil(t, bob, "", "alice declining", func(map[string]any) bool {
			m, _ := dig(d.call(t, "GET", roomPath(droom)+"/state/m.room.member/"+url.PathEscape(aliceID), bob, "", 200), "membership").(string)
			return m == "leave"
		})
	})
	t.Run("kick", func(t *testing.T) {
		hs.call(t, "POST", roomPath(room)+"/kick", alice, `{"user_id":"`+bobID+`","reason":"bye"}`, 200)
		d.syncUntil(t, bob, "", "bob kicked", func(res map[string]any) bool {
			return dig(res, "rooms", "leave", room) != nil
		})
	})

	t.Run("dendrite room", func(t *testing.T) {
		room := d.call(t, "POST", "/_matrix/client/v3/createRoom", bob,
			`{"preset":"public_chat","room_version":"10"}`, 200)["room_id"].(string)
		hs.call(t, "POST", "/_matrix/client/v3/join/"+url.PathEscape(room)+"?via="+
			url.QueryEscape(d.ServerName), alice, `{}`, 200)
		waitMembership(t, hs.testServer, room, aliceID, "join")
		fromBob := d.call(t, "PUT", roomPath(room)+"/send/m.room.message/d2", bob,
			`{"msgtype":"m.text","body":"welcome alice"}`, 200)["event_id"].(string)
		waitEvent(t, hs.testServer, fromBob)
		fromAlice := hs.call(t, "PUT", roomPath(room)+"/send/m.room.message/k2", alice,
			`{"msgtype":"m.text","body":"thanks bob"}`, 200)["event_id"].(string)
		if ev := d.waitEvent(t, bob, room, fromAlice); dig(ev, "content", "body") != "thanks bob" {
			t.Errorf("dendrite served alice's message as %v", ev)
		}
		if m := dig(d.call(t, "GET", roomPath(room)+"/state/m.room.member/"+url.PathEscape(aliceID),
			bob, "", 200), "membership"); m != "join" {
			t.Errorf("dendrite sees alice as %v", m)
		}
	})
}
