package rooms

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kabarchat/kabar/federation/keys"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
)

const (
	alice = spec.UserID("@alice:kabar.test")
	bob   = spec.UserID("@bob:kabar.test")
	carol = spec.UserID("@carol:kabar.test")
)

// startService runs a room service on st until the test ends.
func startService(t testing.TB, st *store.Store) *Service {
	t.Helper()
	key, err := keys.Generate()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := New(context.Background(), Options{Store: st, ServerName: "kabar.test", Key: key})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- svc.Run(ctx) }()
	for { // wait until Run accepts work
		svc.mu.Lock()
		ready := svc.runCtx != nil
		svc.mu.Unlock()
		if ready {
			break
		}
		time.Sleep(time.Millisecond)
	}
	t.Cleanup(func() { cancel(); <-done })
	return svc
}

func message(sender spec.UserID, body string) Proto {
	return Proto{Type: "m.room.message", Sender: string(sender), Content: map[string]any{"msgtype": "m.text", "body": body}}
}

func errcode(err error) string {
	var me *spec.Error
	if errors.As(err, &me) {
		return string(me.Code)
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func TestCreateRoomAndMembership(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		svc := startService(t, st)
		roomID, err := svc.CreateRoom(ctx, CreateRequest{Creator: alice, Name: "Test", Topic: "t",
			Invite: []spec.UserID{bob}, Alias: "#test:kabar.test"})
		if err != nil {
			t.Fatal(err)
		}
		name, err := svc.StateEvent(ctx, roomID, "m.room.name", "")
		if err != nil || string(name.Content()) != `{"name":"Test"}` {
			t.Fatalf("name = %v, %v", name, err)
		}
		steps := []struct {
			name   string
			send   func() (Sent, error)
			errode string
		}{
			{"carol cannot speak uninvited", func() (Sent, error) { return svc.Send(ctx, roomID, message(carol, "hi"), Txn{}) }, "M_FORBIDDEN"},
			{"carol cannot join an invite-only room", func() (Sent, error) { return svc.Membership(ctx, roomID, carol, carol, "join", "", nil) }, "M_FORBIDDEN"},
			{"invited bob joins", func() (Sent, error) { return svc.Membership(ctx, roomID, bob, bob, "join", "", nil) }, ""},
			{"bob speaks", func() (Sent, error) { return svc.Send(ctx, roomID, message(bob, "hello"), Txn{}) }, ""},
			{"bob cannot set the name (power 0)", func() (Sent, error) {
				sk := ""
				return svc.Send(ctx, roomID, Proto{Type: "m.room.name", StateKey: &sk, Sender: string(bob), Content: map[string]any{"name": "x"}}, Txn{})
			}, "M_FORBIDDEN"},
			{"alice kicks bob", func() (Sent, error) { return svc.Membership(ctx, roomID, alice, bob, "leave", "bye", nil) }, ""},
			{"bob cannot speak after the kick", func() (Sent, error) { return svc.Send(ctx, roomID, message(bob, "?"), Txn{}) }, "M_FORBIDDEN"},
			{"alice bans carol", func() (Sent, error) { return svc.Membership(ctx, roomID, alice, carol, "ban", "", nil) }, ""},
			{"alice cannot invite banned carol", func() (Sent, error) { return svc.Membership(ctx, roomID, alice, carol, "invite", "", nil) }, "M_FORBIDDEN"},
			{"alice unbans carol", func() (Sent, error) { return svc.Membership(ctx, roomID, alice, carol, "leave", "", nil) }, ""},
			{"unknown room", func() (Sent, error) { return svc.Send(ctx, "!nope:kabar.test", message(alice, "x"), Txn{}) }, "M_NOT_FOUND"},
			{"too large", func() (Sent, error) {
				big := make([]byte, 70000)
				for i := range big {
					big[i] = 'a'
				}
				return svc.Send(ctx, roomID, message(alice, string(big)), Txn{})
			}, "M_TOO_LARGE"},
		}
		for _, s := range steps {
			_, err := s.send()
			if got := errcode(err); got != s.errode {
				t.Fatalf("%s: got %q (%v), want %q", s.name, got, err, s.errode)
			}
		}
		joined, _ := svc.Members(ctx, roomID, "join")
		if fmt.Sprint(joined) != "[@alice:kabar.test]" {
			t.Fatalf("joined = %v", joined)
		}
		rooms, _ := svc.JoinedRooms(ctx, alice)
		if len(rooms) != 1 || rooms[0] != string(roomID) {
			t.Fatalf("joined rooms = %v", rooms)
		}
		if a, err := st.Alias(ctx, "#test:kabar.test"); err != nil || a.RoomID != string(roomID) {
			t.Fatalf("alias = %+v, %v", a, err)
		}
	})
}

func TestTxnIdempotencyAndRedaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		svc := startService(t, st)
		roomID, err := svc.CreateRoom(ctx, CreateRequest{Creator: alice, Visibility: "public"})
		if err != nil {
			t.Fatal(err)
		}
		first, err := svc.Send(ctx, roomID, message(alice, "once"), Txn{DeviceID: "D1", ID: "t1"})
		if err != nil {
			t.Fatal(err)
		}
		again, err := svc.Send(ctx, roomID, message(alice, "once"), Txn{DeviceID: "D1", ID: "t1"})
		if err != nil || again.EventID != first.EventID {
			t.Fatalf("retry gave %v, %v; want %s", again, err, first.EventID)
		}
		other, err := svc.Send(ctx, roomID, message(alice, "once"), Txn{DeviceID: "D2", ID: "t1"})
		if err != nil || other.EventID == first.EventID {
			t.Fatalf("other device reused the event: %v, %v", other, err)
		}
		if _, err := svc.Membership(ctx, roomID, bob, bob, "join", "", nil); err != nil {
			t.Fatalf("public join: %v", err)
		}
		if _, err := svc.Redact(ctx, roomID, bob, spec.EventID(first.EventID), "", Txn{}); errcode(err) != "M_FORBIDDEN" {
			t.Fatalf("bob redacting alice's event: %v", err)
		}
		if _, err := svc.Redact(ctx, roomID, alice, spec.EventID(first.EventID), "oops", Txn{}); err != nil {
			t.Fatal(err)
		}
		_, row, err := svc.Event(ctx, spec.EventID(first.EventID))
		if err != nil || row.RedactedBy == "" {
			t.Fatalf("event not marked redacted: %+v, %v", row, err)
		}
	})
}

// TestConcurrentSendsOneRoom: 20 senders x 50 events into one room; every
// acknowledged event is stored exactly once, in one total order.
func TestConcurrentSendsOneRoom(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		svc := startService(t, st)
		roomID, err := svc.CreateRoom(ctx, CreateRequest{Creator: alice})
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		acked := map[string]bool{}
		var wg sync.WaitGroup
		for g := range 20 {
			wg.Go(func() {
				for i := range 50 {
					sent, err := svc.Send(ctx, roomID, message(alice, fmt.Sprint(g, i)), Txn{DeviceID: "D", ID: fmt.Sprint(g, "-", i)})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					acked[sent.EventID] = true
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		events, err := st.RoomStream(ctx, string(roomID), 0, svc.Stream().Current(), 10000)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		var lastPos, lastDepth int64
		for _, e := range events {
			if seen[e.EventID] {
				t.Fatalf("event %s stored twice", e.EventID)
			}
			seen[e.EventID] = true
			if e.StreamPos <= lastPos || e.Depth <= lastDepth {
				t.Fatalf("order broken at %s", e.EventID)
			}
			lastPos, lastDepth = e.StreamPos, e.Depth
		}
		for id := range acked {
			if !seen[id] {
				t.Fatalf("acknowledged event %s missing", id)
			}
		}
		if len(acked) != 1000 {
			t.Fatalf("%d events acknowledged, want 1000", len(acked))
		}
		if extr, _ := st.ForwardExtremities(ctx, string(roomID)); len(extr) != 1 {
			t.Fatalf("forward extremities = %v", extr)
		}
	})
}
