package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"

	"github.com/kabarchat/kabar/configs"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// withEphemeralServices configures f as "bridge" with ephemeral events
// (through the MSC2409 key that bridges write) and plain as a service
// interested in every room (a room namespace) without them.
func withEphemeralServices(t *testing.T, f, plain *fakeAppService) func(*configs.Config) {
	dir := t.TempDir()
	bridge := writeRegistration(t, dir, "bridge", f.srv.URL, asToken, hsToken)
	data, _ := os.ReadFile(bridge)
	os.WriteFile(bridge, append(data, "de.sorunome.msc2409.push_ephemeral: true\n"...), 0o600)
	plain.hsToken = "plain_hs_token"
	plainReg := filepath.Join(dir, "plain.yaml")
	os.WriteFile(plainReg, []byte(fmt.Sprintf(`id: plain
url: %q
as_token: plain_as_token
hs_token: plain_hs_token
sender_localpart: plainbot
namespaces:
  rooms:
    - exclusive: false
      regex: "!.*"
`, plain.srv.URL)), 0o600)
	return func(c *configs.Config) {
		openRegistration(c)
		c.AppServiceConfigFiles = []string{bridge, plainReg}
	}
}

// ephemeral returns the ephemeral events the service accepted, checking
// that the stable and unstable lists agree.
func (f *fakeAppService) ephemeral(t *testing.T) []map[string]any {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []map[string]any
	for _, txn := range f.accepted {
		a, _ := json.Marshal(txn.Ephemeral)
		b, _ := json.Marshal(txn.Unstable)
		if string(a) != string(b) {
			t.Errorf("transaction %s: ephemeral %s but de.sorunome.msc2409.ephemeral %s", txn.ID, a, b)
		}
		out = append(out, txn.Ephemeral...)
	}
	return out
}

// waitEphemeral waits until one accepted ephemeral event satisfies ok.
func (f *fakeAppService) waitEphemeral(t *testing.T, what string, within time.Duration, ok func(ev map[string]any) bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		evs := f.ephemeral(t)
		if slices.ContainsFunc(evs, ok) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("application service never received %s; got %v", what, evs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// receiptOf matches the m.receipt of room carrying user's m.read of eventID.
func receiptOf(room, eventID, user string) func(map[string]any) bool {
	return func(ev map[string]any) bool {
		if ev["type"] != "m.receipt" || ev["room_id"] != room {
			return false
		}
		c, _ := ev["content"].(map[string]any)
		byEvent, _ := c[eventID].(map[string]any)
		read, _ := byEvent["m.read"].(map[string]any)
		r, _ := read[user].(map[string]any)
		return r["ts"] != nil
	}
}

func typingOf(room, user string) func(map[string]any) bool {
	return func(ev map[string]any) bool {
		c, _ := ev["content"].(map[string]any)
		users, _ := c["user_ids"].([]any)
		return ev["type"] == "m.typing" && ev["room_id"] == room && slices.Contains(users, any(user))
	}
}

// sendAndRead sends a message as token and posts its m.read receipt.
func sendAndRead(t *testing.T, ts *testServer, token, room, body string) string {
	t.Helper()
	code, resp := ts.do(t, "PUT", "/_matrix/client/v3/rooms/"+room+"/send/m.room.message/"+body, token,
		strings.NewReader(`{"msgtype":"m.text","body":"`+body+`"}`))
	var sent struct {
		EventID string `json:"event_id"`
	}
	if json.Unmarshal(resp, &sent); code != 200 {
		t.Fatalf("send %s: %d %s", body, code, resp)
	}
	code, resp = ts.do(t, "POST", "/_matrix/client/v3/rooms/"+room+"/receipt/m.read/"+url.PathEscape(sent.EventID), token, strings.NewReader(`{}`))
	if code != 200 {
		t.Fatalf("receipt: %d %s", code, resp)
	}
	return sent.EventID
}

// TestAppServiceEphemeral: a service registered for ephemeral events
// (MSC2409) gets the receipts, typing and presence of a room it is in, with
// room_id, under both list keys; a service without it gets none.
func TestAppServiceEphemeral(t *testing.T) {
	f, plain := newFakeAppService(t), newFakeAppService(t)
	eachServer(t, withEphemeralServices(t, f, plain), func(t *testing.T, ts *testServer) {
		f.reset()
		plain.reset()
		alice, room := bridgedRoom(t, ts)
		eventID := sendAndRead(t, ts, alice, room, "m1")
		if code, resp := ts.do(t, "PUT", "/_matrix/client/v3/rooms/"+room+"/typing/@alice:kabar.test", alice, strings.NewReader(`{"typing":true,"timeout":30000}`)); code != 200 {
			t.Fatalf("typing: %d %s", code, resp)
		}
		if code, resp := ts.do(t, "PUT", "/_matrix/client/v3/presence/@alice:kabar.test/status", alice, strings.NewReader(`{"presence":"online","status_msg":"bridging"}`)); code != 200 {
			t.Fatalf("presence: %d %s", code, resp)
		}
		f.waitEphemeral(t, "alice's receipt", 10*time.Second, receiptOf(room, eventID, "@alice:kabar.test"))
		f.waitEphemeral(t, "alice typing", 10*time.Second, typingOf(room, "@alice:kabar.test"))
		f.waitEphemeral(t, "alice's presence", 10*time.Second, func(ev map[string]any) bool {
			c, _ := ev["content"].(map[string]any)
			return ev["type"] == "m.presence" && ev["sender"] == "@alice:kabar.test" && c["status_msg"] == "bridging"
		})
		f.waitBodies(t, []string{"m1"}, 10*time.Second)

		// A private receipt is only for alice's own clients.
		code, resp := ts.do(t, "POST", "/_matrix/client/v3/rooms/"+room+"/receipt/m.read.private/"+url.PathEscape(eventID), alice, strings.NewReader(`{}`))
		if code != 200 {
			t.Fatalf("private receipt: %d %s", code, resp)
		}
		// m2 comes after the receipt and typing: once the plain service
		// has it, it would have had them too.
		asSendText(t, ts, alice, room, "m2")
		f.waitBodies(t, []string{"m1", "m2"}, 10*time.Second)
		plain.waitBodies(t, []string{"m1", "m2"}, 10*time.Second)
		if evs := plain.ephemeral(t); len(evs) != 0 {
			t.Errorf("service without receive_ephemeral got %v", evs)
		}
		for _, ev := range f.ephemeral(t) {
			if c, _ := ev["content"].(map[string]any); ev["type"] == "m.receipt" && strings.Contains(fmt.Sprint(c), "m.read.private") {
				t.Errorf("private receipt pushed: %v", ev)
			}
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		seen := map[string]bool{}
		for _, txn := range f.accepted {
			if seen[txn.ID] {
				t.Errorf("transaction ID %s used twice", txn.ID)
			}
			seen[txn.ID] = true
		}
	})
}

// TestAppServiceReceiptSurvivesOutage: a receipt sent while the service is
// down is delivered after Kabar restarts, in the transaction that was in
// flight, and not sent again.
func TestAppServiceReceiptSurvivesOutage(t *testing.T) {
	for _, db := range storetest.URLs(t) {
		t.Run(db.Name, func(t *testing.T) {
			f, plain := newFakeAppService(t), newFakeAppService(t)
			mutate := withEphemeralServices(t, f, plain)
			dataDir := t.TempDir()
			ts, stop := startStoppableWith(t, db.URL, dataDir, mutate)
			alice, room := bridgedRoom(t, ts)
			asSendText(t, ts, alice, room, "m0")
			f.waitBodies(t, []string{"m0"}, 10*time.Second)
			f.mu.Lock()
			before := len(f.attempts)
			f.mu.Unlock()
			f.setFailing(-1)
			code, resp := ts.do(t, "POST", "/_matrix/client/v3/rooms/"+room+"/receipt/m.read/"+url.PathEscape(lastEventID(t, ts, alice, room)), alice, strings.NewReader(`{}`))
			if code != 200 {
				t.Fatalf("receipt: %d %s", code, resp)
			}
			inFlight := f.waitAttempts(t, before+1, "no transaction attempted for the receipt")
			stop()

			f.setFailing(0)
			startStoppableWith(t, db.URL, dataDir, mutate)
			f.waitEphemeral(t, "the receipt sent during the outage", 15*time.Second, func(ev map[string]any) bool {
				return ev["type"] == "m.receipt" && ev["room_id"] == room
			})
			// The transaction in flight at the stop is resent under its ID
			// (it may hold only presence that came before the receipt), and
			// the receipt arrives exactly once.
			f.mu.Lock()
			defer f.mu.Unlock()
			resent, receipts := false, 0
			for _, txn := range f.accepted {
				resent = resent || txn.ID == inFlight
				for _, ev := range txn.Ephemeral {
					if ev["type"] == "m.receipt" && ev["room_id"] == room {
						receipts++
					}
				}
			}
			if !resent {
				t.Errorf("transaction %s, in flight before the restart, was not resent", inFlight)
			}
			if receipts != 1 {
				t.Errorf("the receipt arrived %d times, want once", receipts)
			}
		})
	}
}

// lastEventID is the latest timeline event of the room.
func lastEventID(t *testing.T, ts *testServer, token, room string) string {
	t.Helper()
	code, resp := ts.do(t, "GET", "/_matrix/client/v3/rooms/"+room+"/messages?dir=b&limit=1", token, nil)
	var page struct {
		Chunk []struct {
			EventID string `json:"event_id"`
		} `json:"chunk"`
	}
	if json.Unmarshal(resp, &page); code != 200 || len(page.Chunk) == 0 {
		t.Fatalf("messages: %d %s", code, resp)
	}
	return page.Chunk[0].EventID
}

// TestAppServiceMautrixEphemeral: mautrix-go's appservice package (its
// Ephemeral handling, what bridges use for read receipts and typing)
// parses the receipts and typing Kabar pushes.
func TestAppServiceMautrixEphemeral(t *testing.T) {
	for _, db := range storetest.URLs(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			br := startMautrixBridge(t, db.URL, true)
			alice, room := br.alice, br.room
			sent, err := alice.SendText(ctx, room, "read me")
			if err != nil {
				t.Fatal(err)
			}
			if err := alice.MarkRead(ctx, room, sent.EventID); err != nil {
				t.Fatalf("receipt: %v", err)
			}
			if _, err := alice.UserTyping(ctx, room, true, 30*time.Second); err != nil {
				t.Fatalf("typing: %v", err)
			}
			var gotReceipt, gotTyping bool
			timeout := time.After(15 * time.Second)
			for !gotReceipt || !gotTyping {
				select {
				case ev := <-br.as.Events:
					switch {
					case ev.Type == event.EphemeralEventReceipt && ev.RoomID == room:
						r := ev.Content.AsReceipt()
						if _, ok := (*r)[sent.EventID][event.ReceiptTypeRead][alice.UserID]; ok {
							gotReceipt = true
						}
					case ev.Type == event.EphemeralEventTyping && ev.RoomID == room:
						gotTyping = slices.Contains(ev.Content.AsTyping().UserIDs, alice.UserID)
					}
				case <-timeout:
					t.Fatalf("the bridge got receipt %v, typing %v", gotReceipt, gotTyping)
				}
			}
		})
	}
}
