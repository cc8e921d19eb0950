package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/kabarchat/kabar/models/store/storetest"
)

// startStoppable starts a server on dbURL whose data directory (signing key)
// survives stop, so a test can restart it on the same database.
func startStoppable(t *testing.T, dbURL, dataDir string) (*testServer, func()) {
	t.Helper()
	return startStoppableWith(t, dbURL, dataDir, openRegistration)
}

// login opens another device of an existing account.
func login(t *testing.T, ts *testServer, user, password string) *mautrix.Client {
	t.Helper()
	cli := newClient(t, ts, "", "")
	_, err := cli.Login(context.Background(), &mautrix.ReqLogin{Type: mautrix.AuthTypePassword,
		Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: user}, Password: password, StoreCredentials: true})
	if err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	return cli
}

// seen records message bodies delivered to a device and fails on repeats.
type seen map[id.EventID]string

func (s seen) add(t *testing.T, resp *mautrix.RespSync, roomID id.RoomID) {
	t.Helper()
	jr, ok := resp.Rooms.Join[roomID]
	if !ok {
		return
	}
	for _, ev := range jr.Timeline.Events {
		if ev.Type != event.EventMessage {
			continue
		}
		if _, dup := s[ev.ID]; dup {
			t.Errorf("event %s delivered twice", ev.ID)
		}
		s[ev.ID] = ev.Content.Raw["body"].(string)
	}
}

// TestSyncExactlyOnceAcrossRestart: a second device sees every message
// exactly once across initial and incremental syncs and a server restart.
func TestSyncExactlyOnceAcrossRestart(t *testing.T) {
	for _, db := range storetest.URLs(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			dataDir := t.TempDir()
			ts, stop := startStoppable(t, db.URL, dataDir)
			ts.register(t, "alice", "correct horse")
			a := login(t, ts, "alice", "correct horse")
			b := login(t, ts, "alice", "correct horse")
			room, err := a.CreateRoom(ctx, &mautrix.ReqCreateRoom{Name: "r"})
			if err != nil {
				t.Fatal(err)
			}
			send := func(cli *mautrix.Client, from, to int) {
				for i := from; i < to; i++ {
					if _, err := cli.SendText(ctx, room.RoomID, fmt.Sprint("m", i)); err != nil {
						t.Fatal(err)
					}
				}
			}
			got := seen{}
			send(a, 0, 5)
			resp, err := b.SyncRequest(ctx, 0, "", "", false, "")
			if err != nil {
				t.Fatal(err)
			}
			got.add(t, resp, room.RoomID)
			since := resp.NextBatch
			for round := range 4 {
				send(a, 5+round*7, 5+(round+1)*7)
				resp, err = b.SyncRequest(ctx, 0, since, "", false, "")
				if err != nil {
					t.Fatal(err)
				}
				got.add(t, resp, room.RoomID)
				since = resp.NextBatch
			}
			stop()
			ts, _ = startStoppable(t, db.URL, dataDir)
			a = newClient(t, ts, a.UserID, a.AccessToken)
			b = newClient(t, ts, b.UserID, b.AccessToken)
			send(a, 33, 40)
			for range 2 { // the second sync must bring nothing new
				resp, err = b.SyncRequest(ctx, 0, since, "", false, "")
				if err != nil {
					t.Fatal(err)
				}
				got.add(t, resp, room.RoomID)
				since = resp.NextBatch
			}
			// The limited timeline may skip some of the first five, never
			// deliver one twice; everything after the initial sync arrives.
			for i := 5; i < 40; i++ {
				found := false
				for _, body := range got {
					found = found || body == fmt.Sprint("m", i)
				}
				if !found {
					t.Errorf("message m%d never delivered", i)
				}
			}
		})
	}
}

// TestSyncLongPollWakes: a parked /sync returns as soon as a message lands,
// and a long-poll with nothing new returns empty after its timeout.
func TestSyncLongPollWakes(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		ts.register(t, "alice", "correct horse")
		a := login(t, ts, "alice", "correct horse")
		bobTok := ts.register(t, "bob", "correct horse")
		b := newClient(t, ts, "@bob:kabar.test", bobTok)
		room, err := a.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "public_chat"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.JoinRoom(ctx, room.RoomID.String(), nil); err != nil {
			t.Fatal(err)
		}
		resp, err := b.SyncRequest(ctx, 0, "", "", false, "")
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		empty, err := b.SyncRequest(ctx, 200, resp.NextBatch, "", false, "")
		if err != nil || len(empty.Rooms.Join) != 0 || time.Since(start) < 150*time.Millisecond {
			t.Fatalf("idle long-poll: %+v after %v, %v", empty.Rooms, time.Since(start), err)
		}
		woke := make(chan *mautrix.RespSync, 1)
		go func() {
			r, err := b.SyncRequest(ctx, 10000, empty.NextBatch, "", false, "")
			if err != nil {
				t.Error(err)
			}
			woke <- r
		}()
		time.Sleep(100 * time.Millisecond) // let it park
		sent, err := a.SendText(ctx, room.RoomID, "wake up")
		if err != nil {
			t.Fatal(err)
		}
		start = time.Now()
		select {
		case r := <-woke:
			evs := r.Rooms.Join[room.RoomID].Timeline.Events
			if len(evs) != 1 || evs[0].ID != sent.EventID {
				t.Fatalf("woken sync timeline: %+v", evs)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("long-poll was not woken")
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("wake took %v", d)
		}
	})
}

// TestSyncAccountDataAndFilters: account data arrives in incremental syncs;
// stored and inline filters apply.
func TestSyncAccountDataAndFilters(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		ts.register(t, "alice", "correct horse")
		a := login(t, ts, "alice", "correct horse")
		room, err := a.CreateRoom(ctx, &mautrix.ReqCreateRoom{Name: "r"})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := a.SyncRequest(ctx, 0, "", "", false, "")
		if err != nil {
			t.Fatal(err)
		}
		jr := resp.Rooms.Join[room.RoomID]
		if jr == nil || jr.Summary.JoinedMemberCount == nil || *jr.Summary.JoinedMemberCount != 1 || len(jr.State.Events)+len(jr.Timeline.Events) == 0 {
			t.Fatalf("initial sync room: %+v", jr)
		}
		if err := a.SetAccountData(ctx, "org.example.x", map[string]any{"v": 1}); err != nil {
			t.Fatal(err)
		}
		if err := a.SetRoomAccountData(ctx, room.RoomID, "org.example.y", map[string]any{"v": 2}); err != nil {
			t.Fatal(err)
		}
		inc, err := a.SyncRequest(ctx, 1000, resp.NextBatch, "", false, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(inc.AccountData.Events) != 1 || inc.AccountData.Events[0].Type.Type != "org.example.x" {
			t.Errorf("global account data: %+v", inc.AccountData.Events)
		}
		if jr := inc.Rooms.Join[room.RoomID]; jr == nil || len(jr.AccountData.Events) != 1 {
			t.Errorf("room account data: %+v", inc.Rooms.Join)
		}

		// A stored filter limiting the timeline to one event.
		for i := range 3 {
			a.SendText(ctx, room.RoomID, fmt.Sprint(i))
		}
		f, err := a.CreateFilter(ctx, &mautrix.Filter{Room: &mautrix.RoomFilter{Timeline: &mautrix.FilterPart{Limit: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		fs, err := a.SyncRequest(ctx, 0, "", f.FilterID, false, "")
		if err != nil {
			t.Fatal(err)
		}
		if tl := fs.Rooms.Join[room.RoomID].Timeline; len(tl.Events) != 1 || !tl.Limited || tl.PrevBatch == "" {
			t.Errorf("filtered timeline: %d events, limited %v", len(tl.Events), tl.Limited)
		}
		inline := url.QueryEscape(`{"room":{"not_rooms":["` + room.RoomID.String() + `"]}}`)
		code, body := ts.do(t, "GET", "/_matrix/client/v3/sync?filter="+inline, a.AccessToken, nil)
		if code != 200 || strings.Contains(string(body), room.RoomID.String()) {
			t.Errorf("inline not_rooms filter: %d %s", code, body)
		}
	})
}

// TestSyncErrors is the bad-input table for /sync and filters.
func TestSyncErrors(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		tok := ts.register(t, "alice", "correct horse")
		ts.register(t, "bob", "correct horse")
		q := url.QueryEscape
		runErrCases(t, ts, []errCase{
			{"no token", "GET", "/_matrix/client/v3/sync", "", "", 401, "M_MISSING_TOKEN"},
			{"garbage since", "GET", "/_matrix/client/v3/sync?since=abc", tok, "", 400, "M_INVALID_PARAM"},
			{"short since", "GET", "/_matrix/client/v3/sync?since=s1_1_2", tok, "", 400, "M_INVALID_PARAM"},
			{"future since", "GET", "/_matrix/client/v3/sync?since=s1_999999_0_0_0_0_0_0", tok, "", 400, "M_INVALID_PARAM"},
			{"bad timeout", "GET", "/_matrix/client/v3/sync?timeout=soon", tok, "", 400, "M_INVALID_PARAM"},
			{"negative timeout", "GET", "/_matrix/client/v3/sync?timeout=-5", tok, "", 400, "M_INVALID_PARAM"},
			{"bad full_state", "GET", "/_matrix/client/v3/sync?full_state=yes", tok, "", 400, "M_INVALID_PARAM"},
			{"bad set_presence", "GET", "/_matrix/client/v3/sync?set_presence=away", tok, "", 400, "M_INVALID_PARAM"},
			{"malformed inline filter", "GET", "/_matrix/client/v3/sync?filter=" + q(`{"room":`), tok, "", 400, "M_BAD_JSON"},
			{"mistyped inline filter", "GET", "/_matrix/client/v3/sync?filter=" + q(`{"room":{"timeline":{"limit":"ten"}}}`), tok, "", 400, "M_BAD_JSON"},
			{"unknown filter id", "GET", "/_matrix/client/v3/sync?filter=42", tok, "", 404, "M_NOT_FOUND"},
			{"non-numeric filter id", "GET", "/_matrix/client/v3/sync?filter=abc", tok, "", 404, "M_NOT_FOUND"},
			{"filter not an object", "POST", "/_matrix/client/v3/user/@alice:kabar.test/filter", tok, `[1]`, 400, "M_BAD_JSON"},
			{"filter bad limit", "POST", "/_matrix/client/v3/user/@alice:kabar.test/filter", tok, `{"room":{"timeline":{"limit":-1}}}`, 400, "M_BAD_JSON"},
			{"filter of someone else", "POST", "/_matrix/client/v3/user/@bob:kabar.test/filter", tok, `{}`, 403, "M_FORBIDDEN"},
			{"get unknown filter", "GET", "/_matrix/client/v3/user/@alice:kabar.test/filter/7", tok, "", 404, "M_NOT_FOUND"},
			{"get someone else's filter", "GET", "/_matrix/client/v3/user/@bob:kabar.test/filter/0", tok, "", 403, "M_FORBIDDEN"},
		})
	})
}
