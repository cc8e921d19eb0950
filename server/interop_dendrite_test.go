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
	run(t, dir, filepath.Join(tools, "generate-keys"), "--private-key", keyPath)
	raw := run(t, dir, filepath.Join(tools, "generate-config"), "-ci", "-server", name, "-dir", dir)
	cfgPath := filepath.Join(dir, "dendrite.yaml")
	if err := os.WriteFile(cfgPath, patchDendriteConfig(t, raw, keyPath), 0o600); err != nil {
		t.Fatal(err)
	}
	d := &dendrite{ServerName: name, URL: "http://" + clientAddr, dir: dir, log: filepath.Join(dir, "stderr.log")}
	logFile, err := os.Create(d.log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config", cfgPath, "--http-bind-address", clientAddr,
		"--https-bind-address", name, "--tls-cert", certFile, "--tls-key", keyFile)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dendrite: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logFile.Close()
		if t.Failed() || os.Getenv("KABAR_TEST_LOG") != "" {
			d.dumpLog(t)
		}
	})
	d.waitUp(t)
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

// run executes a Dendrite tool and returns its standard output.
func run(t *testing.T, dir, bin string, args ...string) []byte {
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
	if len(lines) > 200 {
		lines = lines[len(lines)-200:]
	}
	t.Logf("dendrite log (last %d lines):\n%s", len(lines), strings.Join(lines, "\n"))
}

func (d *dendrite) waitUp(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
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

// waitInvite polls Dendrite's /sync until room shows up among the invites.
func (d *dendrite) waitInvite(t *testing.T, token, room string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		res := d.call(t, "GET", "/_matrix/client/v3/sync?timeout=1000", token, "", 200)
		if dig(res, "rooms", "invite", room) != nil {
			return
		}
	}
	t.Fatalf("dendrite never saw the invite to %s", room)
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

	t.Run("kabar room", func(t *testing.T) {
		room := hs.call(t, "POST", "/_matrix/client/v3/createRoom", alice,
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
