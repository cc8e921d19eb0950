package main

import (
	"fmt"
	"net/url"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/kabarchat/kabar/models/store/storetest"
)

// benchMessages is the burst size of the federation figures (issue 5).
const benchMessages = 200

// sendBurst sends n messages to the room from workers concurrent clients
// and returns their event IDs in send order per worker.
func sendBurst(t *testing.T, ts *testServer, token, room, prefix string, n, workers int) []string {
	t.Helper()
	ids := make([]string, n)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				path := "/_matrix/client/v3/rooms/" + url.PathEscape(room) + "/send/m.room.message/" + fmt.Sprintf("%s%d", prefix, i)
				ids[i] = ts.call(t, "PUT", path, token, `{"msgtype":"m.text","body":"bench"}`, 200)["event_id"].(string)
			}
		})
	}
	wg.Wait()
	return ids
}

// waitAll waits until the server holds every event.
func waitAll(t *testing.T, ts *testServer, ids []string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		rows, err := ts.srv.store.EventsByID(t.Context(), ids)
		if err == nil && len(rows) == len(ids) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d events after %v (err %v)", len(rows), len(ids), within, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestFederationBenchmark measures, on SQLite (hs2) and the first database
// (hs1): the local send rate of 200 messages on hs1 alone (the limit), the
// delivery rate of 200 messages from hs1 to hs2 in one room (first send to
// all stored on hs2), and the time hs1 takes to deliver 200 messages queued
// while hs2 was down, from hs2's restart. Run with KABAR_BENCH_FED=1.
func TestFederationBenchmark(t *testing.T) {
	if os.Getenv("KABAR_BENCH_FED") == "" {
		t.Skip("set KABAR_BENCH_FED=1 to run the federation benchmark")
	}
	const workers = 8
	for _, db := range storetest.URLs(t) {
		t.Run(db.Name, func(t *testing.T) {
			o := newOutageRoom(t, db.URL)
			alone := o.hs1.call(t, "POST", "/_matrix/client/v3/createRoom", o.alice, `{"preset":"private_chat"}`, 200)["room_id"].(string)
			start := time.Now()
			sendBurst(t, o.hs1.testServer, o.alice, alone, "l", benchMessages, workers)
			local := time.Since(start)

			start = time.Now()
			ids := sendBurst(t, o.hs1.testServer, o.alice, o.room, "f", benchMessages, workers)
			sent := time.Since(start)
			waitAll(t, o.hs2.testServer, ids, 30*time.Second)
			delivered := time.Since(start)

			o.hs2.stop()
			queued := sendBurst(t, o.hs1.testServer, o.alice, o.room, "q", benchMessages, workers)
			start = time.Now()
			o.hs2.start()
			restarted := time.Since(start)
			waitAll(t, o.hs2.testServer, queued, 60*time.Second)
			catchUp := time.Since(start)

			rate := func(d time.Duration) float64 { return benchMessages / d.Seconds() }
			t.Logf("GOMAXPROCS=%d db=%s hs2=sqlite", runtime.GOMAXPROCS(0), db.Name)
			t.Logf("local send on hs1, no remote member: %v, %.0f events/s (limit)", local.Round(time.Millisecond), rate(local))
			t.Logf("hs1->hs2 one room: sent in %v, all on hs2 after %v: %.0f events/s delivered (%.2f of the local rate)",
				sent.Round(time.Millisecond), delivered.Round(time.Millisecond), rate(delivered), rate(delivered)/rate(local))
			t.Logf("after the outage: hs2 up in %v, %d queued events all on hs2 %v after its restart",
				restarted.Round(time.Millisecond), benchMessages, catchUp.Round(time.Millisecond))
		})
	}
}
