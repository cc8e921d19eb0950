package main

import (
	"cmp"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// TestInteropSynapse runs Kabar against a real Synapse (github.com/element-hq/
// synapse, AGPL-3.0), Debian's matrix-synapse package installed in a Debian
// chroot (Synapse does not install on the host's release). It only runs when
// KABAR_INTEROP_SYNAPSE names that chroot, and as root (chroot(2));
// `make interop-synapse` creates the chroot with debootstrap and runs it.

// startSynapse writes a Synapse config (SQLite, open registration without
// verification, no key notaries, a federation TLS listener with a
// certificate from ca, which is also the only CA it trusts for federation,
// 127.0.0.0/8 allowed, rate limits out of the way) under the chroot's /tmp
// and starts the homeserver on 127.0.0.4; it is killed when the test ends.
func startSynapse(t *testing.T, ca *testCA, root string) *remoteHS {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("running Synapse in its chroot needs root")
	}
	if _, err := os.Stat(filepath.Join(root, "usr/lib/python3/dist-packages/synapse")); err != nil {
		t.Fatalf("KABAR_INTEROP_SYNAPSE=%s has no Synapse: %v", root, err)
	}
	host, err := os.MkdirTemp(filepath.Join(root, "tmp"), "kabar-interop-")
	if err != nil {
		t.Fatal(err)
	}
	// The directory stays after a failure, with Synapse's log in it.
	t.Cleanup(func() {
		if !t.Failed() {
			os.RemoveAll(host)
		}
	})
	in := func(name string) string { return "/tmp/" + filepath.Base(host) + "/" + name }
	const ip = "127.0.0.4"
	name, clientAddr := freeAddr(t, ip), freeAddr(t, ip)
	certFile, keyFile := ca.issue(t, ip)
	for src, dst := range map[string]string{certFile: "tls.crt", keyFile: "tls.key", ca.pemFile: "ca.pem"} {
		copyFile(t, src, filepath.Join(host, dst))
	}
	_, seed, _ := ed25519.GenerateKey(nil)
	// Synapse's signing key file: "<algorithm> <version> <unpadded base64 seed>".
	writeFile(t, filepath.Join(host, "signing.key"),
		"ed25519 a_kabar "+base64.RawStdEncoding.EncodeToString(seed.Seed())+"\n")
	writeFile(t, filepath.Join(host, "log.yaml"), synapseLogConfig())
	writeFile(t, filepath.Join(host, "homeserver.yaml"), string(synapseConfig(t, name, clientAddr, in)))

	s := &remoteHS{Name: "synapse", ServerName: name, URL: "http://" + clientAddr, log: filepath.Join(host, "homeserver.log")}
	cmd := func() *exec.Cmd {
		cmd := exec.Command("chroot", root, "/usr/bin/python3", "-m", "synapse.app.homeserver", "-c", in("homeserver.yaml"))
		// Unbuffered: the log is read while Synapse runs (interopOutage).
		cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + in(""), "LANG=C.UTF-8", "PYTHONUNBUFFERED=1"}
		return cmd
	}
	// Python starts slowly on a busy machine: schema creation included, a
	// minute is not unusual.
	s.start(t, cmd, 3*time.Minute)
	return s
}

// synapseConfig is a homeserver.yaml; in maps a file name to its path
// inside the chroot. The option names are those of Synapse 1.160's
// docs/usage/configuration/config_documentation.md.
func synapseConfig(t *testing.T, name, clientAddr string, in func(string) string) []byte {
	t.Helper()
	listener := func(addr string, tls bool, resources ...string) map[string]any {
		host, port, _ := net.SplitHostPort(addr)
		p, err := strconv.Atoi(port)
		if err != nil {
			t.Fatal(err)
		}
		return map[string]any{"port": p, "bind_addresses": []string{host}, "type": "http", "tls": tls,
			"x_forwarded": false, "resources": []map[string]any{{"names": resources, "compress": false}}}
	}
	generous := map[string]any{"per_second": 1000, "burst_count": 1000}
	cfg := map[string]any{
		"server_name": name,
		"pid_file":    in("homeserver.pid"),
		"listeners": []map[string]any{
			listener(name, true, "federation", "openid"),
			listener(clientAddr, false, "client"),
		},
		"tls_certificate_path":                     in("tls.crt"),
		"tls_private_key_path":                     in("tls.key"),
		"federation_custom_ca_list":                []string{in("ca.pem")},
		"database":                                 map[string]any{"name": "sqlite3", "args": map[string]any{"database": in("homeserver.db")}},
		"log_config":                               in("log.yaml"),
		"media_store_path":                         in("media"),
		"signing_key_path":                         in("signing.key"),
		"trusted_key_servers":                      []any{},
		"suppress_key_server_warning":              true,
		"report_stats":                             false,
		"enable_registration":                      true,
		"enable_registration_without_verification": true,
		"macaroon_secret_key":                      randomSecret(),
		"form_secret":                              randomSecret(),
		// Kabar is on 127.0.0.2, which the default block list covers.
		"ip_range_blacklist": []string{},
		"ip_range_whitelist": []string{"127.0.0.0/8"},
		// On by default; the presence scenario depends on it.
		"presence":          map[string]any{"enabled": true},
		"rc_message":        generous,
		"rc_registration":   generous,
		"rc_login":          map[string]any{"address": generous, "account": generous, "failed_attempts": generous},
		"rc_joins":          map[string]any{"local": generous, "remote": generous},
		"rc_joins_per_room": generous,
		"rc_invites":        map[string]any{"per_room": generous, "per_user": generous, "per_issuer": generous},
		"rc_key_requests":   generous,
		"rc_room_creation":  generous,
		"rc_federation": map[string]any{"window_size": 1000, "sleep_limit": 1000, "sleep_delay": 1,
			"reject_limit": 10000, "concurrent": 100},
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// synapseLogConfig sends Synapse's log (a Python logging dictConfig) to
// stderr, which start collects in the log file.
func synapseLogConfig() string {
	level := "INFO"
	if os.Getenv("KABAR_TEST_LOG") != "" {
		level = "DEBUG"
	}
	return `version: 1
formatters:
  precise:
    format: '%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(request)s - %(message)s'
handlers:
  console:
    class: logging.StreamHandler
    formatter: precise
loggers:
  synapse.storage.SQL:
    level: INFO
root:
  level: ` + level + `
  handlers: [console]
disable_existing_loggers: false
`
}

func randomSecret() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dst, string(data))
}

// TestInteropSynapse: alice@kabar and bob@synapse over real federation with
// TLS on both sides: the scenarios shared with Dendrite, then message order,
// one-time key claims, remote kicks and bans, and rooms of versions 1, 5 and
// each server's default.
func TestInteropSynapse(t *testing.T) {
	root := os.Getenv("KABAR_INTEROP_SYNAPSE")
	if root == "" {
		t.Skip("KABAR_INTEROP_SYNAPSE is not set (make interop-synapse)")
	}
	hs, s, alice, bob := interopPair(t, func(ca *testCA) *remoteHS { return startSynapse(t, ca, root) })
	interopRooms(t, hs, s, alice, bob)
	t.Run("keys claim", func(t *testing.T) { interopKeyClaim(t, hs, s) })
	for _, version := range []string{"1", "5", ""} {
		t.Run("room version "+cmp.Or(version, "default"), func(t *testing.T) {
			interopVersion(t, hs, s, alice, bob, version)
		})
	}
}

// interopKeyClaim: carol@kabar and dave@remote, who share no room, query each
// other's device keys and claim each other's one-time key.
func interopKeyClaim(t *testing.T, hs *fedServer, r *remoteHS) {
	carol, dave := hs.register(t, "carol", "password-carol"), r.register(t, "dave", "password-dave")
	carolID, daveID := "@carol:"+hs.ServerName, "@dave:"+r.ServerName
	carolDev, daveDev := deviceOf(t, hs, carol), deviceOf(t, r, dave)
	carolKey, daveKey := uploadKeys(t, hs, carol, carolID, carolDev), uploadKeys(t, r, dave, daveID, daveDev)
	for _, c := range []struct {
		name             string
		client           apiCaller
		token, user, dev string
		key              string
	}{
		{"kabar asks " + r.Name, hs, carol, daveID, daveDev, daveKey},
		{r.Name + " asks kabar", r, dave, carolID, carolDev, carolKey},
	} {
		t.Run(c.name, func(t *testing.T) {
			q := c.client.call(t, "POST", "/_matrix/client/v3/keys/query", c.token, `{"device_keys":{"`+c.user+`":[]}}`, 200)
			if got := dig(q, "device_keys", c.user, c.dev, "keys", "ed25519:"+c.dev); got != c.key {
				t.Errorf("keys query: %v", q)
			}
			claim := `{"one_time_keys":{"` + c.user + `":{"` + c.dev + `":"signed_curve25519"}}}`
			got := c.client.call(t, "POST", "/_matrix/client/v3/keys/claim", c.token, claim, 200)
			if k := dig(got, "one_time_keys", c.user, c.dev, "signed_curve25519:"+c.dev+"1", "key"); k != "otk-"+c.dev {
				t.Errorf("claim: %v", got)
			}
			// The only key is used up: a second claim finds none.
			got = c.client.call(t, "POST", "/_matrix/client/v3/keys/claim", c.token, claim, 200)
			if k, _ := dig(got, "one_time_keys", c.user, c.dev).(map[string]any); len(k) != 0 {
				t.Errorf("second claim: %v", got)
			}
		})
	}
}

// interopVersion: in a room of the given version (the server's default when
// empty) created on each side, the other side's user joins by room ID with
// via, messages alternate in causal order and both servers list them in
// that order; then the creator kicks, lets back in and bans the remote user.
func interopVersion(t *testing.T, hs *fedServer, r *remoteHS, alice, bob, version string) {
	aliceID, bobID := "@alice:"+hs.ServerName, "@bob:"+r.ServerName
	create := `{"preset":"public_chat"}`
	if version != "" {
		create = `{"preset":"public_chat","room_version":"` + version + `"}`
	}
	kabarRoom := func(t *testing.T) string {
		return hs.call(t, "POST", "/_matrix/client/v3/createRoom", alice, create, 200)["room_id"].(string)
	}
	remoteRoom := func(t *testing.T) string {
		return r.call(t, "POST", "/_matrix/client/v3/createRoom", bob, create, 200)["room_id"].(string)
	}
	for _, c := range []struct {
		name   string
		create func(*testing.T) string
		kabar  bool // Kabar created the room
	}{{"kabar room", kabarRoom, true}, {r.Name + " room", remoteRoom, false}} {
		t.Run(c.name, func(t *testing.T) {
			room := c.create(t)
			if c.kabar {
				r.call(t, "POST", "/_matrix/client/v3/join/"+url.PathEscape(room)+"?via="+url.QueryEscape(hs.ServerName), bob, `{}`, 200)
				waitMembership(t, hs.testServer, room, bobID, "join")
			} else {
				hs.call(t, "POST", "/_matrix/client/v3/join/"+url.PathEscape(room)+"?via="+url.QueryEscape(r.ServerName), alice, `{}`, 200)
				waitMembership(t, hs.testServer, room, aliceID, "join")
			}
			want := version
			if want == "" {
				want, _ = hs.call(t, "GET", roomPath(room)+"/state/m.room.create/", alice, "", 200)["room_version"].(string)
			}
			for _, got := range []map[string]any{
				hs.call(t, "GET", roomPath(room)+"/state/m.room.create/", alice, "", 200),
				r.call(t, "GET", roomPath(room)+"/state/m.room.create/", bob, "", 200),
			} {
				// Version 1 is implied by an absent room_version.
				if v, _ := got["room_version"].(string); cmp.Or(v, "1") != want {
					t.Errorf("m.room.create says version %q, want %s", v, want)
				}
			}
			interopOrder(t, hs, r, room, alice, bob)
			interopRemoteBan(t, hs, r, room, alice, bob, c.kabar)
		})
	}
}

// interopOrder sends six messages alternating between alice and bob, each
// once the previous one reached the sender's server, and checks both
// servers' /messages list them in that order.
func interopOrder(t *testing.T, hs *fedServer, r *remoteHS, room, alice, bob string) {
	t.Helper()
	var want []string
	for i := range 6 {
		body := fmt.Sprintf("order %d", i)
		msg := `{"msgtype":"m.text","body":"` + body + `"}`
		txn := fmt.Sprintf("/send/m.room.message/o%d-%d", i, time.Now().UnixNano())
		if i%2 == 0 {
			id := hs.call(t, "PUT", roomPath(room)+txn, alice, msg, 200)["event_id"].(string)
			r.waitEvent(t, bob, room, id)
		} else {
			id := r.call(t, "PUT", roomPath(room)+txn, bob, msg, 200)["event_id"].(string)
			waitEvent(t, hs.testServer, id)
		}
		want = append(want, body)
	}
	for _, side := range []interopSide{{name: "kabar", token: alice, c: hs}, {name: r.Name, token: bob, c: r}} {
		res := side.c.call(t, "GET", roomPath(room)+"/messages?dir=b&limit=50", side.token, "", 200)
		chunk, _ := res["chunk"].([]any)
		var got []string
		for _, ev := range chunk {
			if b, ok := dig(ev, "content", "body").(string); ok && strings.HasPrefix(b, "order ") {
				got = append(got, b)
			}
		}
		slices.Reverse(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s lists the messages as %v, want %v", side.name, got, want)
		}
	}
}

// interopRemoteBan: the room's creator kicks the other server's user, who
// rejoins, then bans them; both servers agree on each membership, and the
// banned user's server cannot join them back in.
func interopRemoteBan(t *testing.T, hs *fedServer, r *remoteHS, room, alice, bob string, kabarOwns bool) {
	t.Helper()
	aliceID, bobID := "@alice:"+hs.ServerName, "@bob:"+r.ServerName
	if kabarOwns {
		since := r.call(t, "GET", "/_matrix/client/v3/sync?timeout=0", bob, "", 200)["next_batch"].(string)
		hs.call(t, "POST", roomPath(room)+"/kick", alice, `{"user_id":"`+bobID+`","reason":"out"}`, 200)
		r.syncUntil(t, bob, since, "bob kicked", func(res map[string]any) bool { return leftAs(res, room, "leave") })
		r.call(t, "POST", "/_matrix/client/v3/join/"+url.PathEscape(room)+"?via="+url.QueryEscape(hs.ServerName), bob, `{}`, 200)
		waitMembership(t, hs.testServer, room, bobID, "join")
		since = r.call(t, "GET", "/_matrix/client/v3/sync?timeout=0", bob, "", 200)["next_batch"].(string)
		hs.call(t, "POST", roomPath(room)+"/ban", alice, `{"user_id":"`+bobID+`","reason":"gone"}`, 200)
		waitMembership(t, hs.testServer, room, bobID, "ban")
		r.syncUntil(t, bob, since, "bob banned", func(res map[string]any) bool { return leftAs(res, room, "ban") })
		if code, res := r.do(t, "POST", "/_matrix/client/v3/join/"+url.PathEscape(room)+"?via="+url.QueryEscape(hs.ServerName), bob, `{}`); code != 403 {
			t.Errorf("banned bob joining through %s: %d %v", r.Name, code, res)
		}
		return
	}
	r.call(t, "POST", roomPath(room)+"/kick", bob, `{"user_id":"`+aliceID+`","reason":"out"}`, 200)
	waitMembership(t, hs.testServer, room, aliceID, "leave")
	hs.call(t, "POST", "/_matrix/client/v3/join/"+url.PathEscape(room)+"?via="+url.QueryEscape(r.ServerName), alice, `{}`, 200)
	waitMembership(t, hs.testServer, room, aliceID, "join")
	r.waitMembership(t, bob, room, aliceID, "join")
	r.call(t, "POST", roomPath(room)+"/ban", bob, `{"user_id":"`+aliceID+`","reason":"gone"}`, 200)
	waitMembership(t, hs.testServer, room, aliceID, "ban")
	r.waitMembership(t, bob, room, aliceID, "ban")
	if code, res := hs.do(t, "POST", "/_matrix/client/v3/join/"+url.PathEscape(room)+"?via="+url.QueryEscape(r.ServerName), alice, strings.NewReader(`{}`)); code != 403 {
		t.Errorf("banned alice joining through kabar: %d %s", code, res)
	}
}

// leftAs reports whether a /sync response shows the user leaving room with
// the given membership ("leave" for a kick, "ban").
func leftAs(res map[string]any, room, membership string) bool {
	evs, _ := dig(res, "rooms", "leave", room, "timeline", "events").([]any)
	for _, e := range evs {
		if dig(e, "type") == "m.room.member" && dig(e, "content", "membership") == membership {
			return true
		}
	}
	return false
}
