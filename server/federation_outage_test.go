package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kabarchat/kabar/configs"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// restartable is a federating Kabar a test can stop and start again on the
// same database, data directory (signing key) and federation address, as
// an operator restarting it would.
type restartable struct {
	*testServer
	ServerName string
	t          *testing.T
	cfg        *configs.Config
	cancel     context.CancelFunc
	done       chan error
}

func newRestartable(t *testing.T, ca *testCA, ip, dbURL string, mutate func(*configs.Config)) *restartable {
	t.Helper()
	addr := freeAddr(t, ip)
	certFile, keyFile := ca.issue(t, ip)
	cfg := configs.Default()
	cfg.ServerName = addr
	cfg.Client.Listen = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Database.URL = dbURL
	cfg.RateLimits.Enabled = false
	cfg.Registration.Mode = configs.RegistrationOpen
	cfg.Federation.Listen = addr
	cfg.Federation.TLSCert, cfg.Federation.TLSKey = certFile, keyFile
	cfg.Federation.TrustedCAFile = ca.pemFile
	cfg.Federation.AllowPrivateAddresses = true
	if mutate != nil {
		mutate(cfg)
	}
	r := &restartable{ServerName: addr, t: t, cfg: cfg}
	r.start()
	t.Cleanup(r.stop)
	return r
}

// start runs the server (again).
func (r *restartable) start() {
	r.t.Helper()
	if err := r.cfg.Validate(); err != nil {
		r.t.Fatalf("test config: %v", err)
	}
	var logOut io.Writer = io.Discard
	if os.Getenv("KABAR_TEST_LOG") != "" {
		logOut = os.Stderr
	}
	ctx, cancel := context.WithCancel(context.Background())
	var srv *server
	var err error
	// The federation port may take a moment to be free after a stop.
	for range 50 {
		if srv, err = newServer(ctx, r.cfg, slog.New(slog.NewTextHandler(logOut, nil)).With("server", r.ServerName)); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		cancel()
		r.t.Fatalf("start server: %v", err)
	}
	r.cancel, r.done = cancel, make(chan error, 1)
	go func() { r.done <- srv.Run(ctx) }()
	<-srv.Ready
	r.testServer = &testServer{URL: "http://" + srv.ClientAddr(), srv: srv}
}

// stop shuts the server down gracefully; stopping a stopped one is a no-op.
func (r *restartable) stop() {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		if err != nil {
			r.t.Errorf("server %s stopped with error: %v", r.ServerName, err)
		}
	case <-time.After(15 * time.Second):
		r.t.Errorf("server %s did not stop within 15s", r.ServerName)
	}
}

func (r *restartable) restart() {
	r.stop()
	r.start()
}

// outageRoom is a room alice@hs1 created (bob with alice's power level)
// and bob@hs2 joined.
type outageRoom struct {
	hs1, hs2   *restartable
	room       string
	alice, bob string
}

func newOutageRoom(t *testing.T, dbURL string) *outageRoom {
	ca := newTestCA(t)
	fast := func(cfg *configs.Config) {
		// Long enough that only a wake-up explains a quick delivery.
		cfg.Federation.RetryMin, cfg.Federation.RetryMax = 100*time.Millisecond, 30*time.Second
	}
	hs1 := newRestartable(t, ca, "127.0.0.2", dbURL, fast)
	hs2 := newRestartable(t, ca, "127.0.0.3", storetest.URLs(t)[0].URL, fast)
	alice := hs1.register(t, "alice", "password-alice")
	bob := hs2.register(t, "bob", "password-bob")
	bobID := "@bob:" + hs2.ServerName
	room := hs1.call(t, "POST", "/_matrix/client/v3/createRoom", alice,
		`{"preset":"private_chat","power_level_content_override":{"users":{"`+bobID+`":100}}}`, 200)["room_id"].(string)
	hs1.call(t, "POST", "/_matrix/client/v3/rooms/"+url.PathEscape(room)+"/invite", alice, `{"user_id":"`+bobID+`"}`, 200)
	hs2.call(t, "POST", "/_matrix/client/v3/join/"+url.PathEscape(room)+"?via="+url.QueryEscape(hs1.ServerName), bob, `{}`, 200)
	return &outageRoom{hs1: hs1, hs2: hs2, room: room, alice: alice, bob: bob}
}

func (o *outageRoom) send(t *testing.T, hs *restartable, token, body string) string {
	t.Helper()
	path := fmt.Sprintf("/_matrix/client/v3/rooms/%s/send/m.room.message/%d", url.PathEscape(o.room), time.Now().UnixNano())
	return hs.call(t, "PUT", path, token, `{"msgtype":"m.text","body":"`+body+`"}`, 200)["event_id"].(string)
}

func (o *outageRoom) setTopic(t *testing.T, hs *restartable, token, topic string) string {
	t.Helper()
	path := "/_matrix/client/v3/rooms/" + url.PathEscape(o.room) + "/state/m.room.topic/"
	return hs.call(t, "PUT", path, token, `{"topic":"`+topic+`"}`, 200)["event_id"].(string)
}

// waitInOrder waits until hs has every event and checks they got increasing
// stream positions there: delivered in order, each once.
func waitInOrder(t *testing.T, hs *restartable, ids []string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	ctx := context.Background()
	for {
		rows, err := hs.srv.store.EventsByID(ctx, ids)
		if err == nil && len(rows) == len(ids) {
			pos := map[string]int64{}
			for _, r := range rows {
				pos[r.EventID] = r.StreamPos
			}
			for i := 1; i < len(ids); i++ {
				if pos[ids[i]] <= pos[ids[i-1]] {
					t.Fatalf("event %d arrived before event %d (stream %d <= %d)", i, i-1, pos[ids[i]], pos[ids[i-1]])
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has %d of %d events after %v (err %v)", hs.ServerName, len(rows), len(ids), within, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFederationOutage: hs2 is down while alice@hs1 sends 200 messages, and
// hs1 itself restarts mid-queue. hs1 backs off (few attempts) and delivers
// everything in order, once, as soon as hs2 contacts it again. After a
// second, longer outage hs1 sends only the latest event and hs2 fetches the
// gap with /get_missing_events (catch-up).
func TestFederationOutage(t *testing.T) {
	for _, db := range storetest.URLs(t) {
		t.Run(db.Name, func(t *testing.T) {
			o := newOutageRoom(t, db.URL)
			waitInOrder(t, o.hs2, []string{o.send(t, o.hs1, o.alice, "before")}, 10*time.Second)

			o.hs2.stop()
			var ids []string
			for i := range 200 {
				ids = append(ids, o.send(t, o.hs1, o.alice, fmt.Sprint("m", i)))
			}
			time.Sleep(1500 * time.Millisecond) // let hs1 fail and back off
			st := o.hs1.srv.fed.sender.Status(spec.ServerName(o.hs2.ServerName))
			if st.Failures == 0 || st.Attempts > 8 {
				t.Errorf("while hs2 is down: %d failures, %d attempts in 1.5s (want backoff)", st.Failures, st.Attempts)
			}
			o.hs1.restart() // the queue is in the database, not in memory
			o.hs2.start()
			// hs2 speaks to hs1 (bob's message): hs1 retries at once instead
			// of waiting out its backoff.
			back := time.Now()
			o.send(t, o.hs2, o.bob, "back")
			waitInOrder(t, o.hs2, ids, 10*time.Second)
			t.Logf("200 queued events delivered %v after hs2 spoke", time.Since(back).Round(time.Millisecond))
			assertDrained(t, o.hs1, o.hs2.ServerName)

			// A long outage: more events than catch_up_after.
			o.hs2.stop()
			ids = nil
			for i := range 150 {
				ids = append(ids, o.send(t, o.hs1, o.alice, fmt.Sprint("c", i)))
			}
			o.hs1.cfg.Federation.CatchUpAfter = 50
			o.hs1.restart()
			o.hs2.start()
			o.send(t, o.hs2, o.bob, "back again")
			waitInOrder(t, o.hs2, ids, 10*time.Second)
			if a := o.hs1.srv.fed.sender.Status(spec.ServerName(o.hs2.ServerName)).Attempts; a > 3 {
				t.Errorf("catch-up took %d transactions, want the latest event only", a)
			}
		})
	}
}

// assertDrained waits for hs's queue to dest to be empty.
func assertDrained(t *testing.T, hs *restartable, dest string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		rows, err := hs.srv.store.QueueHead(context.Background(), dest, "pdu", 1)
		if err == nil && len(rows) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue to %s not drained: %v %v", dest, rows, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFederationPartition: hs1 and hs2 change the same room's state while
// they cannot reach each other (each changes it while the other is down),
// then both run again: they resolve to the same state and hold the same
// events.
func TestFederationPartition(t *testing.T) {
	for _, db := range storetest.URLs(t) {
		t.Run(db.Name, func(t *testing.T) {
			o := newOutageRoom(t, db.URL)
			waitInOrder(t, o.hs2, []string{o.send(t, o.hs1, o.alice, "before")}, 10*time.Second)

			o.hs2.stop()
			all := []string{o.setTopic(t, o.hs1, o.alice, "topic of hs1")}
			for i := range 5 {
				all = append(all, o.send(t, o.hs1, o.alice, fmt.Sprint("a", i)))
			}
			o.hs1.stop()
			o.hs2.start()
			all = append(all, o.setTopic(t, o.hs2, o.bob, "topic of hs2"))
			for i := range 5 {
				all = append(all, o.send(t, o.hs2, o.bob, fmt.Sprint("b", i)))
			}
			o.hs1.start() // heals: each sender has the other's queue

			for _, hs := range []*restartable{o.hs1, o.hs2} {
				for _, id := range all {
					waitEvent(t, hs.testServer, id)
				}
			}
			ctx := context.Background()
			deadline := time.Now().Add(10 * time.Second)
			for {
				a, _ := o.hs1.srv.store.CurrentStateRows(ctx, o.room, "")
				b, _ := o.hs2.srv.store.CurrentStateRows(ctx, o.room, "")
				sa, sb := stateIDs(a), stateIDs(b)
				if sa == sb && sa != "" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("state differs after healing:\nhs1 %s\nhs2 %s", sa, sb)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}

// stateIDs renders current state rows as "type|key=event" lines.
func stateIDs(rows []models.CurrentState) string {
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%s|%s=%s\n", r.Type, r.StateKey, r.EventID)
	}
	return b.String()
}
