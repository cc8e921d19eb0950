//go:build goolm

package main

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/kabarchat/kabar/configs"
	"github.com/kabarchat/kabar/models/store/storetest"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

// Run with: CGO_ENABLED=0 go test -tags goolm -run TestE2EEClients ./server
// (make test does). The clients are mautrix with its pure-Go Olm; every
// message is Megolm-encrypted by one client and decrypted by another, with
// the room keys carried by Olm-encrypted to-device messages through Kabar.

func openRegistrationOnly(c *configs.Config) { c.Registration.Mode = configs.RegistrationOpen }

// TestE2EEClientsOneServer: two users exchange encrypted messages in a new
// encrypted room; a third user joins later and decrypts new messages; a
// user adds a second device, which gets the keys of new messages.
func TestE2EEClientsOneServer(t *testing.T) {
	eachServer(t, openRegistrationOnly, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		alice := newCryptoClient(t, ts.URL, "alice", "password-alice", true)
		bob := newCryptoClient(t, ts.URL, "bob", "password-bob", true)
		room := alice.createEncryptedRoom(t, bob.cli.UserID)
		bob.join(t, room)
		alice.waitMember(t, room, bob.cli.UserID)

		t.Run("alice and bob decrypt each other", func(t *testing.T) {
			alice.send(t, room, "hello bob")
			bob.waitPlain(t, room, "hello bob")
			bob.send(t, room, "hello alice")
			alice.waitPlain(t, room, "hello alice")
		})
		t.Run("carol joins later and decrypts new messages", func(t *testing.T) {
			carol := newCryptoClient(t, ts.URL, "carol", "password-carol", true)
			if _, err := alice.cli.InviteUser(ctx, room, &mautrix.ReqInviteUser{UserID: carol.cli.UserID}); err != nil {
				t.Fatal(err)
			}
			carol.join(t, room)
			alice.waitMember(t, room, carol.cli.UserID)
			bob.waitMember(t, room, carol.cli.UserID)
			alice.send(t, room, "welcome carol")
			carol.waitPlain(t, room, "welcome carol")
			bob.waitPlain(t, room, "welcome carol")
			bob.send(t, room, "hi carol, bob here")
			carol.waitPlain(t, room, "hi carol, bob here")
			if carol.has(room, "hello bob") {
				t.Error("carol decrypted a message sent before she joined without a key share")
			}
		})
		t.Run("bob's second device gets keys of new messages", func(t *testing.T) {
			bob2 := newCryptoClient(t, ts.URL, "bob", "password-bob", false)
			bob2.sync(t, 0)
			alice.waitDevice(t, bob.cli.UserID, bob2.cli.DeviceID)
			alice.send(t, room, "to both of bob's devices")
			bob2.waitPlain(t, room, "to both of bob's devices")
			bob.waitPlain(t, room, "to both of bob's devices")
			bob2.send(t, room, "from bob's second device")
			alice.waitPlain(t, room, "from bob's second device")
			bob.waitPlain(t, room, "from bob's second device")
		})
	})
}

// waitDevice syncs until the client's device list of user has device: the
// server announced the change in device_lists.changed and the client's
// /keys/query returned it.
func (c *cryptoClient) waitDevice(t *testing.T, user id.UserID, device id.DeviceID) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if d, err := c.mach.CryptoStore.GetDevice(context.Background(), user, device); err == nil && d != nil {
			return
		}
		c.sync(t, 300*time.Millisecond)
	}
	t.Fatalf("%s never learned of %s's device %s", c.cli.UserID, user, device)
}

// TestE2EEClientsFederated: the same exchange between users on two
// federated Kabar servers, a new device on the remote side, and the time
// until a new device's keys are visible through the other server's
// /keys/query (logged; docs/PERFORMANCE.md records one run).
func TestE2EEClientsFederated(t *testing.T) {
	ca := newTestCA(t)
	dbs := storetest.URLs(t)
	hs1 := startFedServer(t, ca, "127.0.0.2", dbs[len(dbs)-1].URL)
	hs2 := startFedServer(t, ca, "127.0.0.3", storetest.URLs(t)[0].URL)
	alice, bob, room := newE2EEPair(t, hs1.URL, hs1.ServerName, hs2.URL)

	t.Run("alice and bob decrypt each other across servers", func(t *testing.T) {
		exchangeE2EE(t, alice, bob, room, "hello bob over federation", "hello alice over federation")
	})
	t.Run("bob's new device on hs2 gets keys from alice on hs1", func(t *testing.T) {
		newDeviceGetsKeys(t, alice, bob, hs2.URL, room)
	})
	t.Run("new device keys visible on the other server", func(t *testing.T) {
		var took []time.Duration
		for range 5 {
			took = append(took, newDeviceVisibleAfter(t, alice, hs2.URL, bob.cli.UserID))
		}
		slices.Sort(took)
		t.Logf("new device's keys visible on the other server after: min %v, median %v, max %v",
			took[0], took[len(took)/2], took[len(took)-1])
	})
}

// newE2EEPair registers alice on the server at aliceURL and bob on the
// one at bobURL, each a new encrypting device; bob joins alice's new
// encrypted room through aliceServer.
func newE2EEPair(t *testing.T, aliceURL, aliceServer, bobURL string) (alice, bob *cryptoClient, room id.RoomID) {
	t.Helper()
	alice = newCryptoClient(t, aliceURL, "alice", "password-alice", true)
	bob = newCryptoClient(t, bobURL, "bob", "password-bob", true)
	room = alice.createEncryptedRoom(t, bob.cli.UserID)
	bob.join(t, room, aliceServer)
	alice.waitMember(t, room, bob.cli.UserID)
	return alice, bob, room
}

// exchangeE2EE: a sends first, b decrypts it and answers, a decrypts that.
func exchangeE2EE(t *testing.T, a, b *cryptoClient, room id.RoomID, first, answer string) {
	t.Helper()
	a.send(t, room, first)
	b.waitPlain(t, room, first)
	b.send(t, room, answer)
	a.waitPlain(t, room, answer)
}

// newDeviceGetsKeys signs in a second device of user's account on the
// server at baseURL; other learns of it through /sync's device list
// changes, and the new device decrypts other's next message (so does the
// old one) and other decrypts the new device's answer.
func newDeviceGetsKeys(t *testing.T, other, user *cryptoClient, baseURL string, room id.RoomID) {
	t.Helper()
	name := user.cli.UserID.Localpart()
	dev2 := newCryptoClient(t, baseURL, name, "password-"+name, false)
	dev2.sync(t, 0)
	other.waitDevice(t, user.cli.UserID, dev2.cli.DeviceID)
	toBoth := "to both of " + name + "'s devices"
	other.send(t, room, toBoth)
	dev2.waitPlain(t, room, toBoth)
	user.waitPlain(t, room, toBoth)
	fromNew := "from " + name + "'s new device"
	dev2.send(t, room, fromNew)
	other.waitPlain(t, room, fromNew)
}

// newDeviceVisibleAfter signs in a new device of user on the server at
// baseURL and measures from its key upload until observer's /keys/query on
// its own server returns the device.
func newDeviceVisibleAfter(t *testing.T, observer *cryptoClient, baseURL string, user id.UserID) time.Duration {
	t.Helper()
	ctx := context.Background()
	cli, err := mautrix.NewClient(baseURL, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Login(ctx, &mautrix.ReqLogin{Type: mautrix.AuthTypePassword, Password: "password-" + user.Localpart(),
		Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: user.Localpart()}, StoreCredentials: true}); err != nil {
		t.Fatal(err)
	}
	c := &cryptoClient{cli: cli}
	state := mautrix.NewMemoryStateStore().(*mautrix.MemoryStateStore)
	c.mach = newMachine(t, cli, state)
	start := time.Now()
	if err := c.mach.ShareKeys(ctx, 0); err != nil {
		t.Fatal(err)
	}
	deadline := start.Add(15 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := observer.cli.QueryKeys(ctx, &mautrix.ReqQueryKeys{DeviceKeys: mautrix.DeviceKeysRequest{user: {}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := resp.DeviceKeys[user][cli.DeviceID]; ok {
			return time.Since(start)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("device %s never visible to %s", cli.DeviceID, observer.cli.UserID)
	return 0
}
