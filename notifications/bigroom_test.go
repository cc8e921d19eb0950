package notifications

import (
	"context"
	"testing"
	"time"

	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
	"github.com/kabarchat/kabar/models/store/storetest/roomtest"
)

// TestBigRoomCatchUp times the worker catching up on KABAR_BIGROOM joins
// (e.g. 5000) into one room (docs/PERFORMANCE.md "Rooms (issue 3)"): each
// join used to reload the whole member list, so the catch-up grew with the
// square of the room size. Building the room takes a while, hence the gate.
//
//	KABAR_BIGROOM=5000 go test ./notifications -run BigRoom -v
func TestBigRoomCatchUp(t *testing.T) {
	n := roomtest.BigRoomSize(t)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		roomSvc := roomtest.Service(t, st)
		svc := newWorker(t, st, roomSvc)
		roomID, err := roomSvc.CreateRoom(ctx, rooms.CreateRequest{Creator: "@alice:kabar.test", Visibility: "public"})
		if err != nil {
			t.Fatal(err)
		}
		roomtest.JoinMany(t, roomSvc, roomID, n)
		start := time.Now()
		if err := svc.catchUp(ctx); err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		t.Logf("%d joins: push worker caught up in %v; limit (read the same events in batches, store the position) %v",
			n, took, scanLimit(t, st, svc.Processed()))
	})
}

// scanLimit is the catch-up's floor: reading the events up to pos in the
// worker's batches and storing its position after each, nothing evaluated.
func scanLimit(t testing.TB, st *store.Store, pos int64) time.Duration {
	ctx := context.Background()
	start := time.Now()
	for from := int64(0); from < pos; {
		rows, err := st.StreamEventsBetween(ctx, from, pos, batchSize)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 0 {
			break
		}
		from = rows[len(rows)-1].StreamPos
		if err := st.SetWorkerPosition(ctx, "scan_limit", from); err != nil {
			t.Fatal(err)
		}
	}
	return time.Since(start)
}

// newWorker is a notification service following roomSvc's stream from
// its current position (Run not started).
func newWorker(t testing.TB, st *store.Store, roomSvc *rooms.Service) *Service {
	t.Helper()
	svc, err := New(Options{Store: st, ServerName: "kabar.test", Events: roomSvc.Stream(), Kick: NewKick()})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}
