package rooms

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// TestRowsPerMessageInBigRoom: a message in a 10,000-member room adds one
// event row and no state rows (DESIGN "What makes it fast").
func TestRowsPerMessageInBigRoom(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 10,000-member room")
	}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		svc := startService(t, st)
		roomID, err := svc.CreateRoom(ctx, CreateRequest{Creator: alice, Visibility: "public"})
		if err != nil {
			t.Fatal(err)
		}
		joinMany(t, svc, roomID, 10000)
		tables := []string{"events", "state_blocks", "state_snapshots", "current_state", "room_forward_extremities", "event_txn_ids"}
		count := func() map[string]int64 {
			out := map[string]int64{}
			for _, tb := range tables {
				n, err := st.CountRowsForTest(ctx, tb)
				if err != nil {
					t.Fatal(err)
				}
				out[tb] = n
			}
			return out
		}
		before := count()
		if _, err := svc.Send(ctx, roomID, message(alice, "hello"), Txn{DeviceID: "D", ID: "1"}); err != nil {
			t.Fatal(err)
		}
		after := count()
		want := map[string]int64{"events": 1, "event_txn_ids": 1}
		for _, tb := range tables {
			if d := after[tb] - before[tb]; d != want[tb] {
				t.Errorf("%s: +%d rows, want +%d", tb, d, want[tb])
			}
		}
		joined, _ := svc.Members(ctx, roomID, "join")
		if len(joined) != 10001 {
			t.Fatalf("%d joined, want 10001", len(joined))
		}
	})
}

// joinMany joins n users concurrently (so the writer commits them in
// batches).
func joinMany(t testing.TB, svc *Service, roomID spec.RoomID, n int) {
	var wg sync.WaitGroup
	for g := range 64 {
		wg.Go(func() {
			for i := g; i < n; i += 64 {
				u := spec.UserID(fmt.Sprintf("@u%d:kabar.test", i))
				if _, err := svc.Membership(context.Background(), roomID, u, u, "join", "", nil); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
