//go:build goolm

package main

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// cryptoClient is one Matrix device driven by mautrix with its pure-Go Olm
// (goolm) and in-memory stores: a real client implementation of
// client-server-api "End-to-end encryption", not a hand-written imitation.
// It syncs explicitly (sync), so a test decides when each device catches up.
type cryptoClient struct {
	cli   *mautrix.Client
	mach  *crypto.OlmMachine
	state *mautrix.MemoryStateStore
	since string

	mu      sync.Mutex
	plain   map[id.RoomID][]string // decrypted message bodies, in sync order
	pending []*event.Event         // encrypted events whose key has not come yet
	invites []id.RoomID
}

// newCryptoClient signs up (register) or signs in a new device of user on
// the server at baseURL and publishes the device's keys.
func newCryptoClient(t *testing.T, baseURL, user, password string, register bool) *cryptoClient {
	t.Helper()
	ctx := context.Background()
	cli, err := mautrix.NewClient(baseURL, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if register {
		reg, err := cli.RegisterDummy(ctx, &mautrix.ReqRegister[any]{Username: user, Password: password})
		if err != nil {
			t.Fatalf("register %s: %v", user, err)
		}
		cli.UserID, cli.DeviceID, cli.AccessToken = reg.UserID, reg.DeviceID, reg.AccessToken
	} else {
		_, err := cli.Login(ctx, &mautrix.ReqLogin{Type: mautrix.AuthTypePassword, Password: password,
			Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: user}, StoreCredentials: true})
		if err != nil {
			t.Fatalf("login %s: %v", user, err)
		}
	}
	state := mautrix.NewMemoryStateStore().(*mautrix.MemoryStateStore)
	cli.StateStore = state
	c := &cryptoClient{cli: cli, state: state, plain: map[id.RoomID][]string{}}
	c.mach = newMachine(t, cli, state)
	if err := c.mach.ShareKeys(ctx, 0); err != nil {
		t.Fatalf("upload keys of %s: %v", cli.DeviceID, err)
	}
	return c
}

// newMachine makes an Olm machine with a new account and in-memory stores.
func newMachine(t *testing.T, cli *mautrix.Client, state *mautrix.MemoryStateStore) *crypto.OlmMachine {
	t.Helper()
	var log *zerolog.Logger
	if os.Getenv("KABAR_TEST_LOG") != "" {
		l := zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr}).With().Str("device", cli.DeviceID.String()).Logger()
		log = &l
	}
	mach := crypto.NewOlmMachine(cli, log, crypto.NewMemoryStore(nil), state)
	if err := mach.Load(context.Background()); err != nil {
		t.Fatalf("olm load: %v", err)
	}
	return mach
}

// sync runs one /sync (long-polling up to timeout) and feeds it to the Olm
// machine: device lists, to-device room keys, member changes, and then the
// encrypted timeline, so keys that came in this batch decrypt its events.
func (c *cryptoClient) sync(t *testing.T, timeout time.Duration) {
	t.Helper()
	ctx := context.Background()
	resp, err := c.cli.FullSyncRequest(ctx, mautrix.ReqSync{Since: c.since, Timeout: int(timeout.Milliseconds())})
	if err != nil {
		t.Fatalf("sync of %s: %v", c.cli.DeviceID, err)
	}
	var timeline []*event.Event
	for roomID, room := range resp.Rooms.Join {
		for _, evt := range append(append([]*event.Event{}, room.State.Events...), room.Timeline.Events...) {
			evt.RoomID = roomID
			evt.Type.Class = event.MessageEventType
			if evt.StateKey != nil {
				evt.Type.Class = event.StateEventType
			}
			_ = evt.Content.ParseRaw(evt.Type)
			if evt.StateKey != nil {
				mautrix.UpdateStateStore(ctx, c.state, evt)
				if evt.Type == event.StateMember {
					c.mach.HandleMemberEvent(ctx, evt)
				}
			} else if evt.Type == event.EventEncrypted {
				timeline = append(timeline, evt)
			}
		}
	}
	c.mach.ProcessSyncResponse(ctx, resp, c.since)
	if c.since == "" {
		c.trackMembers(ctx, resp)
	}
	c.since = resp.NextBatch
	c.mu.Lock()
	defer c.mu.Unlock()
	for roomID := range resp.Rooms.Invite {
		c.invites = append(c.invites, roomID)
	}
	c.pending = append(c.pending, timeline...)
	c.decryptPending(ctx)
}

// trackMembers downloads the device lists of everyone in the encrypted
// rooms of an initial sync, as client-server-api "Tracking the device list
// for a user" asks of a client starting up (mautrix leaves it to the app).
func (c *cryptoClient) trackMembers(ctx context.Context, resp *mautrix.RespSync) {
	var users []id.UserID
	for roomID := range resp.Rooms.Join {
		if enc, _ := c.state.IsEncrypted(ctx, roomID); enc {
			members, _ := c.state.GetRoomJoinedOrInvitedMembers(ctx, roomID)
			users = append(users, members...)
		}
	}
	if len(users) > 0 {
		c.mach.FetchKeys(ctx, users, true)
	}
}

// decryptPending retries every undecrypted event; the room key may arrive
// in a later sync than the message (to-device and timeline are separate).
func (c *cryptoClient) decryptPending(ctx context.Context) {
	var still []*event.Event
	for _, evt := range c.pending {
		dec, err := c.mach.DecryptMegolmEvent(ctx, evt)
		if err != nil {
			still = append(still, evt)
			continue
		}
		if msg := dec.Content.AsMessage(); msg != nil {
			c.plain[evt.RoomID] = append(c.plain[evt.RoomID], msg.Body)
		}
	}
	c.pending = still
}

// send encrypts body with the room's outbound Megolm session, sharing a new
// one with every joined or invited member's devices when needed.
func (c *cryptoClient) send(t *testing.T, room id.RoomID, body string) {
	t.Helper()
	ctx := context.Background()
	content := &event.MessageEventContent{MsgType: event.MsgText, Body: body}
	enc, err := c.mach.EncryptMegolmEvent(ctx, room, event.EventMessage, content)
	if crypto.IsShareError(err) {
		members, merr := c.state.GetRoomJoinedOrInvitedMembers(ctx, room)
		if merr != nil {
			t.Fatal(merr)
		}
		if err := c.mach.ShareGroupSession(ctx, room, members); err != nil {
			t.Fatalf("share group session: %v", err)
		}
		enc, err = c.mach.EncryptMegolmEvent(ctx, room, event.EventMessage, content)
	}
	if err != nil {
		t.Fatalf("encrypt: %v", err)
	}
	if _, err := c.cli.SendMessageEvent(ctx, room, event.EventEncrypted, enc); err != nil {
		t.Fatalf("send: %v", err)
	}
}

// waitPlain syncs until body has been decrypted in room.
func (c *cryptoClient) waitPlain(t *testing.T, room id.RoomID, body string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if c.has(room, body) {
			return
		}
		c.sync(t, 300*time.Millisecond)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t.Fatalf("%s/%s never decrypted %q in %s; decrypted %q, %d undecryptable", c.cli.UserID, c.cli.DeviceID,
		body, room, c.plain[room], len(c.pending))
}

func (c *cryptoClient) has(room id.RoomID, body string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range c.plain[room] {
		if b == body {
			return true
		}
	}
	return false
}

// join joins room and syncs until the join is in the local state.
func (c *cryptoClient) join(t *testing.T, room id.RoomID, via ...string) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.cli.JoinRoom(ctx, room.String(), &mautrix.ReqJoinRoom{Via: via}); err != nil {
		t.Fatalf("%s joins %s: %v", c.cli.UserID, room, err)
	}
	c.waitMember(t, room, c.cli.UserID)
}

// waitMember syncs until user is a joined member of room in the local
// state store (so a later send shares keys with them).
func (c *cryptoClient) waitMember(t *testing.T, room id.RoomID, user id.UserID) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if c.state.IsInRoom(context.Background(), room, user) {
			return
		}
		c.sync(t, 300*time.Millisecond)
	}
	t.Fatalf("%s never saw %s join %s", c.cli.UserID, user, room)
}

// createEncryptedRoom creates a private room with m.room.encryption in its
// initial state and invites the given users.
func (c *cryptoClient) createEncryptedRoom(t *testing.T, invite ...id.UserID) id.RoomID {
	t.Helper()
	resp, err := c.cli.CreateRoom(context.Background(), &mautrix.ReqCreateRoom{
		Preset: "private_chat", Invite: invite,
		InitialState: []*event.Event{{Type: event.StateEncryption, StateKey: new(string),
			Content: event.Content{Parsed: &event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1}}}},
	})
	if err != nil {
		t.Fatalf("create room: %v", err)
	}
	c.waitMember(t, resp.RoomID, c.cli.UserID)
	return resp.RoomID
}
