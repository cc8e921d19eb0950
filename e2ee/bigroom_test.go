package e2ee

import (
	"context"
	"testing"
	"time"

	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
	"github.com/kabarchat/kabar/models/store/storetest/roomtest"
)

// TestBigRoomMembershipScan times the membership watcher catching up on KABAR_BIGROOM joins
// (e.g. 5000) into one room (docs/PERFORMANCE.md "Rooms (issue 3)"): each
// join used to reload the whole member list, so the catch-up grew with the
// square of the room size. Building the room takes a while, hence the gate.
//
//	KABAR_BIGROOM=5000 go test ./e2ee -run BigRoom -v
func TestBigRoomMembershipScan(t *testing.T) {
	n := roomtest.BigRoomSize(t)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		roomSvc := roomtest.Service(t, st)
		svc, err := New(ctx, Options{Store: st, ServerName: "kabar.test", Events: roomSvc.Stream(), Kick: NewKick(), Notifier: nopWaker{}})
		if err != nil {
			t.Fatal(err)
		}
		roomID, err := roomSvc.CreateRoom(ctx, rooms.CreateRequest{
			Creator: "@alice:kabar.test", Visibility: "public",
			InitialState: []rooms.Proto{{Type: "m.room.encryption", StateKey: new(""), Content: map[string]any{"algorithm": "m.megolm.v1.aes-sha2"}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		roomtest.JoinMany(t, roomSvc, roomID, n)
		start := time.Now()
		if _, err := svc.scanMemberships(ctx, 0, roomSvc.Stream().Current()); err != nil {
			t.Fatal(err)
		}
		t.Logf("%d joins: membership watcher caught up in %v", n, time.Since(start))
	})
}

type nopWaker struct{}

func (nopWaker) Wake(...string) {}
