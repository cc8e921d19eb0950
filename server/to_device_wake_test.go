package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// TestToDeviceWakesParkedSync: a to-device message sent while the
// recipient's /sync is parked wakes it at once, every time (E2EE
// verification and key sharing depend on it; a missed wake-up costs a whole
// long-poll timeout).
func TestToDeviceWakesParkedSync(t *testing.T) {
	eachServer(t, roomsMoreConfig, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		alice, bob := registerClient(t, ts, "alice"), registerClient(t, ts, "bob")
		first, err := alice.SyncRequest(ctx, 0, "", "", false, "")
		if err != nil {
			t.Fatal(err)
		}
		since := first.NextBatch
		for i := range 20 {
			type result struct {
				resp *mautrix.RespSync
				err  error
				took time.Duration
			}
			done := make(chan result, 1)
			start := time.Now()
			go func() {
				r, err := alice.SyncRequest(ctx, 10000, since, "", false, "")
				done <- result{r, err, time.Since(start)}
			}()
			time.Sleep(time.Duration(i%5) * 20 * time.Millisecond) // park, at varying points
			msg := &mautrix.ReqSendToDevice{Messages: map[id.UserID]map[id.DeviceID]*event.Content{
				alice.UserID: {alice.DeviceID: {Raw: map[string]any{"n": i}}}}}
			if _, err := bob.MakeRequest(ctx, "PUT", bob.BuildClientURL("v3", "sendToDevice", "m.test", fmt.Sprint("t", i)), msg, nil); err != nil {
				t.Fatal(err)
			}
			r := <-done
			if r.err != nil {
				t.Fatal(r.err)
			}
			for len(r.resp.ToDevice.Events) == 0 && r.took < 5*time.Second {
				// woken by something else first: the message must come next
				since = r.resp.NextBatch
				resp, err := alice.SyncRequest(ctx, 10000, since, "", false, "")
				if err != nil {
					t.Fatal(err)
				}
				r = result{resp, nil, time.Since(start)}
			}
			if len(r.resp.ToDevice.Events) != 1 || r.took > 3*time.Second {
				t.Fatalf("round %d: %d to-device events after %s", i, len(r.resp.ToDevice.Events), r.took)
			}
			since = r.resp.NextBatch
		}
	})
}
