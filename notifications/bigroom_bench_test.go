package notifications

import (
	"context"
	"fmt"
	"testing"

	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
	"github.com/kabarchat/kabar/models/store/storetest/roomtest"
)

// BenchmarkBigRoomMessage times the worker recording one ordinary message
// in a room of KABAR_BIGROOM joined members (docs/PERFORMANCE.md, "Push
// worker in big rooms"): every member but the sender gets a notification
// row. The limit is a bare insert of the same rows with the worker
// position, in one transaction per message, as the worker records them.
//
//	KABAR_BIGROOM=10000 go test ./notifications -run '^$' -bench BigRoomMessage -benchtime 20x
func BenchmarkBigRoomMessage(b *testing.B) {
	n := roomtest.BigRoomSize(b)
	for _, db := range storetest.URLs(b) {
		ctx := context.Background()
		st := storetest.Open(b, db.URL)
		roomSvc := roomtest.Service(b, st)
		roomID, err := roomSvc.CreateRoom(ctx, rooms.CreateRequest{Creator: "@alice:kabar.test", Visibility: "public"})
		if err != nil {
			b.Fatal(err)
		}
		roomtest.JoinMany(b, roomSvc, roomID, n)
		b.Run(db.Name+"/worker", func(b *testing.B) {
			svc := newWorker(b, st, roomSvc)
			before := unread(b, st, "@u0:kabar.test", roomID)
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				sendText(b, roomSvc, roomID, fmt.Sprintf("message %d", i))
				b.StartTimer()
				if err := svc.catchUp(ctx); err != nil {
					b.Fatal(err)
				}
			}
			if got := unread(b, st, "@u0:kabar.test", roomID) - before; got != int64(b.N) {
				b.Fatalf("a member got %d notifications for %d messages", got, b.N)
			}
		})
		b.Run(db.Name+"/syncwait", func(b *testing.B) {
			// What a /sync right after the send waits for the running
			// worker (clientapi/sync waitUnread, capped at 2 s).
			svc := newWorker(b, st, roomSvc)
			runCtx, cancel := context.WithCancel(ctx)
			done := make(chan error)
			go func() { done <- svc.Run(runCtx) }()
			defer func() { cancel(); <-done }()
			capped := 0
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				sendText(b, roomSvc, roomID, fmt.Sprintf("wait %d", i))
				pos := roomSvc.Stream().Current()
				b.StartTimer()
				svc.WaitProcessed(ctx, pos)
				if svc.Processed() < pos {
					capped++
				}
			}
			b.ReportMetric(float64(capped), "capped-waits")
		})
		b.Run(db.Name+"/limit", func(b *testing.B) {
			pos := int64(1 << 40)
			for i := 0; b.Loop(); i++ {
				pos++
				rows := make([]models.Notification, 0, n)
				for u := range n {
					rows = append(rows, models.Notification{
						UserID: fmt.Sprintf("@u%d:kabar.test", u), RoomID: string(roomID), StreamPos: pos,
						EventID: fmt.Sprintf("$limit%d", i), Actions: `["notify"]`, TS: 1,
					})
				}
				err := st.Transaction(ctx, func(tx *store.Store) error {
					if err := tx.AddNotifications(ctx, rows); err != nil {
						return err
					}
					return tx.SetWorkerPosition(ctx, "bench_limit", pos)
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n), "notes/op")
		})
	}
}

func sendText(tb testing.TB, svc *rooms.Service, roomID spec.RoomID, body string) {
	tb.Helper()
	_, err := svc.Send(context.Background(), roomID, rooms.Proto{
		Type: "m.room.message", Sender: "@alice:kabar.test",
		Content: map[string]any{"msgtype": "m.text", "body": body},
	}, rooms.Txn{})
	if err != nil {
		tb.Fatal(err)
	}
}

func unread(tb testing.TB, st *store.Store, userID string, roomID spec.RoomID) int64 {
	tb.Helper()
	n, _, err := st.UnreadCountsNow(context.Background(), userID, string(roomID))
	if err != nil {
		tb.Fatal(err)
	}
	return n
}
