package rooms

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/kabarchat/kabar/models/store"
)

// BenchmarkMessageBigRoom measures what one message costs in a room of
// 10,000 joined members (issue 3: "memory and rows added per message"):
// bytes allocated per send (B/op), heap still live after a GC per message
// (retained-B/msg: caches growing with the room), and rows added per
// message, in all and in the state tables, and the live heap at the end. Messages are sent one after the
// other so each figure belongs to one send. Building the room takes a few
// seconds per database; run it with a fixed count, e.g.
//
//	go test ./federation/rooms -run '^$' -bench MessageBigRoom -benchtime 2000x
func BenchmarkMessageBigRoom(b *testing.B) {
	eachBenchDB(b, func(b *testing.B, st *store.Store) {
		ctx := context.Background()
		svc := startService(b, st)
		roomID, err := svc.CreateRoom(ctx, CreateRequest{Creator: alice, Visibility: "public"})
		if err != nil {
			b.Fatal(err)
		}
		joinMany(b, svc, roomID, 10000)
		tables := []string{"events", "state_blocks", "state_snapshots", "current_state", "room_forward_extremities", "event_txn_ids"}
		count := func() map[string]int64 {
			out := map[string]int64{}
			for _, tb := range tables {
				n, err := st.CountRowsForTest(ctx, tb)
				if err != nil {
					b.Fatal(err)
				}
				out[tb] = n
			}
			return out
		}
		// Warm up first: the joins leave buffers and cache entries behind
		// that the first sends release, which would hide what a send keeps.
		for i := range 200 {
			if _, err := svc.Send(ctx, roomID, message(alice, "warm-up"), Txn{DeviceID: "W", ID: fmt.Sprint(i)}); err != nil {
				b.Fatal(err)
			}
		}
		before := count()
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		heapBefore := ms.HeapAlloc
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if _, err := svc.Send(ctx, roomID, message(alice, fmt.Sprint("message ", i)), Txn{DeviceID: "D", ID: fmt.Sprint(i)}); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		after := count()
		var rows, stateRows int64
		for _, tb := range tables {
			d := after[tb] - before[tb]
			rows += d
			if tb == "state_blocks" || tb == "state_snapshots" || tb == "current_state" {
				stateRows += d
			}
		}
		n := float64(b.N)
		b.ReportMetric((float64(ms.HeapAlloc)-float64(heapBefore))/n, "retained-B/msg")
		b.ReportMetric(float64(rows)/n, "rows/msg")
		b.ReportMetric(float64(stateRows)/n, "state-rows/msg")
		b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "live-heap-MB")
		b.ReportMetric(n/b.Elapsed().Seconds(), "events/s")
	})
}
