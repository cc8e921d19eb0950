package receiver

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/kabarchat/kabar/federation/keys"
	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// Run with KABAR_TEST_POSTGRES set to include PostgreSQL:
//   go test ./federation/receiver/ -run '^$' -bench Backfill -benchtime 200x

// backfillRoom starts a room service on st and writes a room of n messages;
// it returns the receiver, the room and its latest event.
func backfillRoom(b *testing.B, st *store.Store, n int) (*Receiver, string, string) {
	key, err := keys.Generate()
	if err != nil {
		b.Fatal(err)
	}
	svc, err := rooms.New(context.Background(), rooms.Options{Store: st, ServerName: "kabar.test", Key: key})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- svc.Run(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
	var room spec.RoomID
	for try := 0; ; try++ { // until Run accepts work
		if room, err = svc.CreateRoom(context.Background(), rooms.CreateRequest{Creator: "@alice:kabar.test"}); err == nil {
			break
		}
		if try > 100 {
			b.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	var last string
	for i := range n {
		sent, err := svc.Send(context.Background(), room, rooms.Proto{Type: "m.room.message", Sender: "@alice:kabar.test",
			Content: map[string]any{"msgtype": "m.text", "body": fmt.Sprint("m", i)}}, rooms.Txn{DeviceID: "D", ID: fmt.Sprint(i)})
		if err != nil {
			b.Fatal(err)
		}
		last = string(sent.EventID)
	}
	return New(Options{ServerName: "kabar.test", Store: st, Rooms: svc}), string(room), last
}

// BenchmarkBackfillWalk is /backfill's work for 100 events of a linear
// room, for a server never in it (every event's visibility decided, every
// one redacted). The limit is one topological page of 100 rows
// (store.RoomTopo), what reading the same events without a walk costs.
func BenchmarkBackfillWalk(b *testing.B) {
	for _, db := range storetest.URLs(b) {
		b.Run(db.Name, func(b *testing.B) {
			st := storetest.Open(b, db.URL)
			r, room, last := backfillRoom(b, st, 300)
			ctx := context.Background()
			b.Run("walk+visibility", func(b *testing.B) {
				for b.Loop() {
					view, err := r.opts.Rooms.ServerView(ctx, spec.RoomID(room), "other.test")
					if err != nil {
						b.Fatal(err)
					}
					evs, err := r.walkBack(ctx, room, []string{last}, nil, maxBackfill, math.MinInt64)
					if err != nil || len(evs) != maxBackfill {
						b.Fatal(len(evs), err)
					}
					if _, err := servedTo(ctx, view, evs); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("before: one read per event", func(b *testing.B) {
				for b.Loop() {
					if n := walkOneByOne(ctx, r, room, last, maxBackfill); n != maxBackfill {
						b.Fatal(n)
					}
				}
			})
			b.Run("limit: one page", func(b *testing.B) {
				for b.Loop() {
					rows, err := st.RoomTopo(ctx, room, store.TopoPosition{Depth: math.MaxInt64}, true, maxBackfill)
					if err != nil || len(rows) != maxBackfill {
						b.Fatal(len(rows), err)
					}
					if _, err := r.opts.Rooms.ParseRows(ctx, rows); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// walkOneByOne is the walk as it was before batching (one Rooms.Event per
// event, errors ending the walk), kept as the benchmark's reference.
func walkOneByOne(ctx context.Context, r *Receiver, roomID, start string, limit int) int {
	seen := map[string]bool{}
	n := 0
	queue := []string{start}
	for len(queue) > 0 && n < limit {
		id := queue[0]
		queue = queue[1:]
		if seen[id] {
			continue
		}
		seen[id] = true
		ev, row, err := r.opts.Rooms.Event(ctx, spec.EventID(id))
		if err != nil || row.Rejected || ev.RoomID() != roomID {
			continue
		}
		n++
		queue = append(queue, ev.PrevEventIDs()...)
	}
	return n
}
