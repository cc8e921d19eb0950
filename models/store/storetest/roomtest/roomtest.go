// Package roomtest gives tests a running room service over a test store
// and fills rooms with members. It is apart from storetest because the
// room service's own tests use storetest.
package roomtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/kabarchat/kabar/federation/keys"
	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// Server is the server name of the room service and of the users JoinMany
// creates.
const Server spec.ServerName = "kabar.test"

// Service starts a room service for Server over st with a fresh signing
// key; it stops when the test ends.
func Service(t testing.TB, st *store.Store) *rooms.Service {
	t.Helper()
	key, err := keys.Generate()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := rooms.New(context.Background(), rooms.Options{Store: st, ServerName: Server, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return svc
}

// JoinMany joins n users @u0..@u<n-1> of Server to the room, 64 at a time.
func JoinMany(t testing.TB, svc *rooms.Service, roomID spec.RoomID, n int) {
	t.Helper()
	var wg sync.WaitGroup
	for g := range 64 {
		wg.Go(func() {
			for i := g; i < n; i += 64 {
				u := spec.UserID(fmt.Sprintf("@u%d:%s", i, Server))
				_, err := svc.Membership(context.Background(), roomID, u, u, "join", "", nil)
				for errors.Is(err, rooms.ErrNotRunning) { // Run is starting
					time.Sleep(time.Millisecond)
					_, err = svc.Membership(context.Background(), roomID, u, u, "join", "", nil)
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// BigRoomSize is KABAR_BIGROOM, the number of members the big-room tests
// and benchmarks build; it skips the test when unset (or under -short),
// since building such a room takes a while.
func BigRoomSize(t testing.TB) int {
	t.Helper()
	n, _ := strconv.Atoi(os.Getenv("KABAR_BIGROOM"))
	if n <= 0 || testing.Short() {
		t.Skip("set KABAR_BIGROOM to the number of members")
	}
	return n
}
