package receiver

import (
	"context"
	"testing"

	"github.com/kabarchat/kabar/federation/keys"
	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// TestWalkBackPropagatesErrors: a store failure fails the walk (and so the
// request, with 500 M_UNKNOWN) instead of ending it early, which a peer
// would take for the start of the room's history.
func TestWalkBackPropagatesErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		key, err := keys.Generate()
		if err != nil {
			t.Fatal(err)
		}
		svc, err := rooms.New(context.Background(), rooms.Options{Store: st, ServerName: "kabar.test", Key: key})
		if err != nil {
			t.Fatal(err)
		}
		r := New(Options{ServerName: spec.ServerName("kabar.test"), Store: st, Rooms: svc})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if evs, err := r.walkBack(ctx, "!r:kabar.test", []string{"$a", "$b"}, nil, 10, 0); err == nil {
			t.Fatalf("walk with a failing store: %d events, no error", len(evs))
		}
		if _, err := r.roomEvents(ctx, "!r:kabar.test", []string{"$a"}, 0); err == nil {
			t.Fatal("load with a failing store: no error")
		}
		// With a working store, unknown events are simply absent.
		evs, err := r.walkBack(context.Background(), "!r:kabar.test", []string{"$a"}, nil, 10, 0)
		if err != nil || len(evs) != 0 {
			t.Fatalf("%d events, %v", len(evs), err)
		}
	})
}
