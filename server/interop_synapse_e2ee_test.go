//go:build goolm

package main

import (
	"os"
	"testing"

	"github.com/kabarchat/kabar/models/store/storetest"
)

// Run with: KABAR_INTEROP_SYNAPSE=bin/tools/synapse-sid CGO_ENABLED=0 go test
// -tags goolm -run TestInteropSynapseE2EE ./server (make interop-synapse
// does). The clients are mautrix with its pure-Go Olm (goolm), which needs
// the tag; the rest of the interop test does not.

// TestInteropSynapseE2EE: alice@kabar and bob@synapse, each a real
// end-to-end encrypting client, share an encrypted room: Megolm messages
// decrypt both ways, with the room keys sent as Olm-encrypted to-device
// messages over federation; a new device on either side is announced to
// the other server (m.device_list_update) and receives the keys of the
// next message (client-server-api "End-to-end encryption").
func TestInteropSynapseE2EE(t *testing.T) {
	root := os.Getenv("KABAR_INTEROP_SYNAPSE")
	if root == "" {
		t.Skip("KABAR_INTEROP_SYNAPSE is not set (make interop-synapse)")
	}
	ca := newTestCA(t)
	hs := startFedServer(t, ca, "127.0.0.2", storetest.URLs(t)[0].URL)
	s := startSynapse(t, ca, root)
	alice, bob, room := newE2EEPair(t, hs.URL, hs.ServerName, s.URL)

	t.Run("alice and bob decrypt each other", func(t *testing.T) {
		exchangeE2EE(t, alice, bob, room, "hello bob on synapse", "hello alice on kabar")
	})
	t.Run("bob's new device on synapse gets keys from kabar", func(t *testing.T) {
		newDeviceGetsKeys(t, alice, bob, s.URL, room)
	})
	t.Run("alice's new device on kabar gets keys from synapse", func(t *testing.T) {
		newDeviceGetsKeys(t, bob, alice, hs.URL, room)
	})
}
