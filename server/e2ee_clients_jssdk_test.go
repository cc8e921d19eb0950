//go:build goolm

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/kabarchat/kabar/models/store/storetest"
	"maunium.net/go/mautrix/id"
)

// jsSDK starts web/e2e/js-sdk-e2ee.mjs (matrix-js-sdk with its Rust crypto
// under Node) against baseURL, or skips when Node or the web client's
// node_modules are missing.
func jsSDK(t *testing.T, baseURL string, env ...string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	web, _ := filepath.Abs("../web")
	if _, err := os.Stat(filepath.Join(web, "node_modules/matrix-js-sdk")); err != nil {
		t.Skip("web/node_modules missing: run npm ci in web/")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, node, "e2e/js-sdk-e2ee.mjs")
	cmd.Dir = web
	cmd.Env = append(append(os.Environ(), "KABAR_URL="+baseURL), env...)
	cmd.Stderr = io.Discard
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, bufio.NewScanner(out)
}

// jsResult reads the script's JSON lines until the last and fails the test
// unless it reports ok.
func jsResult(t *testing.T, cmd *exec.Cmd, lines *bufio.Scanner) {
	t.Helper()
	var last map[string]any
	for lines.Scan() {
		t.Logf("js-sdk: %s", lines.Text())
		json.Unmarshal(lines.Bytes(), &last)
	}
	if err := cmd.Wait(); err != nil || last["ok"] != true {
		t.Fatalf("js-sdk script failed (%v): %v", err, last)
	}
}

// TestE2EEClientsJSSDK: two matrix-js-sdk users exchange encrypted messages
// and decrypt each other's; then a js-sdk user and a mautrix (goolm) user
// do the same in one room.
func TestE2EEClientsJSSDK(t *testing.T) {
	ts := startServer(t, storetest.URLs(t)[0].URL, openRegistrationOnly)
	t.Run("two js-sdk users", func(t *testing.T) {
		cmd, lines := jsSDK(t, ts.URL)
		jsResult(t, cmd, lines)
	})
	t.Run("js-sdk and mautrix", func(t *testing.T) {
		cmd, lines := jsSDK(t, ts.URL, "MODE=peer", "PEER_EXPECT=hello js-sdk from mautrix", "PEER_REPLY=hello mautrix from js-sdk")
		var peer struct {
			UserID id.UserID `json:"user_id"`
		}
		for peer.UserID == "" && lines.Scan() {
			json.Unmarshal(lines.Bytes(), &peer)
		}
		if peer.UserID == "" {
			jsResult(t, cmd, lines)
			t.Fatal("js-sdk peer did not start")
		}
		alice := newCryptoClient(t, ts.URL, "alice", "password-alice", true)
		room := alice.createEncryptedRoom(t, peer.UserID)
		alice.waitMember(t, room, peer.UserID)
		alice.send(t, room, "hello js-sdk from mautrix")
		alice.waitPlain(t, room, "hello mautrix from js-sdk")
		jsResult(t, cmd, lines)
	})
}
