package rooms

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// Run with KABAR_TEST_POSTGRES set to include PostgreSQL, e.g.
//   go test ./federation/rooms/ -run '^$' -bench . -benchtime 3000x

func eachBenchDB(b *testing.B, fn func(b *testing.B, st *store.Store)) {
	for _, db := range storetest.URLs(b) {
		b.Run(db.Name, func(b *testing.B) { fn(b, storetest.Open(b, db.URL)) })
	}
}

// sendParallel spreads b.N sends over senders goroutines, picking the room
// per event.
func sendParallel(b *testing.B, svc *Service, senders int, room func(i int64) spec.RoomID) {
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range senders {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				if _, err := svc.Send(context.Background(), room(i), message(alice, fmt.Sprint("message ", i)), Txn{DeviceID: "D", ID: fmt.Sprint(i)}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkSendOneRoom32(b *testing.B) {
	eachBenchDB(b, func(b *testing.B, st *store.Store) {
		svc := startService(b, st)
		roomID, err := svc.CreateRoom(context.Background(), CreateRequest{Creator: alice})
		if err != nil {
			b.Fatal(err)
		}
		sendParallel(b, svc, 32, func(int64) spec.RoomID { return roomID })
	})
}

func BenchmarkSendManyRooms(b *testing.B) {
	eachBenchDB(b, func(b *testing.B, st *store.Store) {
		svc := startService(b, st)
		rooms := make([]spec.RoomID, 100)
		for i := range rooms {
			r, err := svc.CreateRoom(context.Background(), CreateRequest{Creator: alice})
			if err != nil {
				b.Fatal(err)
			}
			rooms[i] = r
		}
		sendParallel(b, svc, 100, func(i int64) spec.RoomID { return rooms[i%100] })
	})
}

// BenchmarkBareInsert is the limit: the same rows a send writes (event,
// extremity swap, transaction ID), one transaction per event, 32 writers,
// no building, signing or authorization.
func BenchmarkBareInsert(b *testing.B) {
	eachBenchDB(b, func(b *testing.B, st *store.Store) {
		json := `{"content":{"body":"` + strings.Repeat("x", 20) + `"},"hashes":{},"signatures":{}}` + strings.Repeat(" ", 500)
		// b.Run calls this again with a larger b.N on the same database.
		off, _, err := st.MaxNIDs(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		var next atomic.Int64
		next.Store(off)
		var wg sync.WaitGroup
		b.ResetTimer()
		for g := range 32 {
			wg.Go(func() {
				for {
					i := next.Add(1)
					if i > off+int64(b.N) {
						return
					}
					id := fmt.Sprintf("$bare%d", i)
					err := st.Transaction(context.Background(), func(tx *store.Store) error {
						return tx.WriteRoom(context.Background(), &store.RoomWrite{
							RoomID: "!bare:kabar.test",
							Events: []models.Event{{EventNID: i, EventID: id, RoomID: "!bare:kabar.test", Type: "m.room.message",
								Sender: string(alice), Depth: i, OriginServerTS: i, StreamPos: i, JSON: json}},
							ExtremitiesRemoved: []string{fmt.Sprintf("$bare%d", i-1)},
							ExtremitiesAdded:   []string{id},
							TxnIDs:             []models.TxnID{{UserID: string(alice), DeviceID: fmt.Sprint("D", g), Scope: "/rooms/!bare:kabar.test/send/m.room.message", TxnID: id, EventID: id}},
						})
					})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
}
