package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// TestFederationJoinBenchmark measures the wall time of bob@hs2 joining a
// public room of hs1 with 1,000 and 10,000 joined members (make_join,
// send_join with the full state and auth chain, hs2 checking every event's
// signatures, hashes and auth and storing the room), from the client's
// POST /join to its answer. hs1 runs on SQLite; hs2 on each database in
// turn. The members are joined through hs1's room service directly, 64 at
// a time. KABAR_BENCH_FED_SIZES overrides the sizes (comma-separated). Run
// with KABAR_BENCH_FED=1.
func TestFederationJoinBenchmark(t *testing.T) {
	if os.Getenv("KABAR_BENCH_FED") == "" {
		t.Skip("set KABAR_BENCH_FED=1 to run the federation benchmark")
	}
	sizes := []int{1000, 10000}
	if env := os.Getenv("KABAR_BENCH_FED_SIZES"); env != "" {
		sizes = nil
		for _, f := range strings.Split(env, ",") {
			n, err := strconv.Atoi(f)
			if err != nil {
				t.Fatalf("KABAR_BENCH_FED_SIZES: %v", err)
			}
			sizes = append(sizes, n)
		}
	}
	for d, db := range storetest.URLs(t) {
		for _, n := range sizes {
			t.Run(fmt.Sprintf("%s/%d", db.Name, n), func(t *testing.T) {
				ca := newTestCA(t)
				hs1 := startFedServer(t, ca, "127.0.0.2", filepath.Join(t.TempDir(), "hs1.db"))
				hs2 := startFedServer(t, ca, "127.0.0.3", storetest.URLs(t)[d].URL) // a fresh database per size
				alice, bob := hs1.register(t, "alice", "password-alice"), hs2.register(t, "bob", "password-bob")
				room := hs1.call(t, "POST", "/_matrix/client/v3/createRoom", alice, `{"preset":"public_chat"}`, 200)["room_id"].(string)
				start := time.Now()
				joinLocalMembers(t, hs1, room, n)
				built := time.Since(start)
				// hs1's push and device-list watchers still work through the
				// joins; the join is timed once the process is idle.
				settled := waitIdle(t, 30*time.Second)

				start = time.Now()
				hs2.call(t, "POST", "/_matrix/client/v3/join/"+url.PathEscape(room)+"?via="+url.QueryEscape(hs1.ServerName), bob, `{}`, 200)
				joined := time.Since(start)
				members, err := hs2.srv.store.MembersWith(context.Background(), room, "join")
				if err != nil || len(members) != n+2 {
					t.Fatalf("hs2 sees %d joined members (%v), want %d", len(members), err, n+2)
				}
				t.Logf("GOMAXPROCS=%d hs2 db=%s: room of %d members built on hs1 in %v (background work settled %v later); bob@hs2 joined in %v",
					runtime.GOMAXPROCS(0), db.Name, n+1, built.Round(time.Millisecond), settled.Round(time.Millisecond), joined.Round(time.Millisecond))
			})
		}
	}
}

// waitIdle waits until the test process uses less than a tenth of a core
// over 200 ms (at most within) and returns how long that took.
func waitIdle(t *testing.T, within time.Duration) time.Duration {
	t.Helper()
	cpu := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			t.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := time.Now()
	for time.Since(start) < within {
		before := cpu()
		time.Sleep(200 * time.Millisecond)
		if cpu()-before < 20*time.Millisecond {
			return time.Since(start)
		}
	}
	t.Logf("still busy after %v", within)
	return within
}

// joinLocalMembers joins n local users of hs to room through its room
// service, 64 at a time (the service commits concurrent joins together).
func joinLocalMembers(t *testing.T, hs *fedServer, room string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	for g := range 64 {
		wg.Go(func() {
			for i := g; i < n; i += 64 {
				u := spec.UserID(fmt.Sprintf("@member%d:%s", i, hs.ServerName))
				if _, err := hs.srv.rooms.Membership(context.Background(), spec.RoomID(room), u, u, "join", "", nil); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
