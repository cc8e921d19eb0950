//go:build goolm

package main

import (
	"bufio"
	"encoding/json"
	"os/exec"
	"testing"

	"github.com/kabarchat/kabar/models/store/storetest"
	"maunium.net/go/mautrix/id"
)

// jsSDK starts web/e2e/js-sdk-e2ee.mjs (matrix-js-sdk with its Rust crypto
// under Node) against baseURL (jsScript, sliding_sync_jssdk_test.go).
func jsSDK(t *testing.T, baseURL string, env ...string) (*exec.Cmd, *bufio.Scanner) {
	return jsScript(t, "e2e/js-sdk-e2ee.mjs", baseURL, env...)
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
