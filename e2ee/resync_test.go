package e2ee

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// TestResyncQueueBackoff: a failed resync is retried after a doubling wait,
// capped, at most maxResyncAttempts times; a new gap resets the count.
func TestResyncQueueBackoff(t *testing.T) {
	base := 10 * time.Second
	now := time.Unix(1000, 0)
	q := newResyncQueue()
	q.add("@a:x", now)
	wait := base
	for attempt := range maxResyncAttempts {
		due := q.due(now)
		if len(due) != 1 || due["@a:x"] != attempt {
			t.Fatalf("attempt %d: due %v", attempt, due)
		}
		q.failed("@a:x", attempt, base, now)
		if got := q.due(now.Add(wait - time.Millisecond)); len(got) != 0 {
			t.Fatalf("attempt %d: retried before %v", attempt, wait)
		}
		now = now.Add(wait)
		wait = min(wait*2, maxResyncBackoff)
	}
	if got := q.due(now.Add(100 * maxResyncBackoff)); len(got) != 0 {
		t.Fatalf("retried after the last attempt: %v", got)
	}
	q.add("@a:x", now) // the next update of the user starts over
	if got := q.due(now); got["@a:x"] != 0 {
		t.Fatalf("after a new gap: %v", got)
	}
}

func TestResyncQueueBounded(t *testing.T) {
	q := newResyncQueue()
	now := time.Unix(0, 0)
	for i := range maxResyncPending {
		if !q.add(fmt.Sprintf("@u%d:x", i), now) {
			t.Fatalf("refused entry %d", i)
		}
	}
	if q.add("@over:x", now) {
		t.Fatal("queue grew past its bound")
	}
	if !q.add("@u1:x", now) {
		t.Fatal("re-adding a queued user must succeed")
	}
}

// failingDevices is a Remote whose /user/devices always fails, reporting
// each call.
type failingDevices struct {
	NoRemote
	calls chan string
}

func (f failingDevices) UserDevices(_ context.Context, _ spec.ServerName, userID string) (*RemoteDevices, error) {
	f.calls <- userID
	return nil, errors.New("unreachable")
}

// TestResyncWorkerWakes: an idle resync worker (no timer shorter than its
// ten-minute safety net) picks up a queued user at once, and retries a
// failed one when its backoff is due, without a polling tick.
func TestResyncWorkerWakes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		remote := failingDevices{calls: make(chan string, 16)}
		svc, err := New(context.Background(), Options{Store: st, ServerName: "kabar.test", Remote: remote,
			ResyncRetry: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- svc.runResync(ctx) }()
		defer func() { cancel(); <-done }()
		if at, ok := svc.resync.next(); ok {
			t.Fatalf("idle queue has a due time %v", at)
		}
		deadline := time.After(10 * time.Second)
		svc.queueResync("@bob:remote.test")
		for attempt := range 2 { // the first try, then the retry after 50ms
			select {
			case u := <-remote.calls:
				if u != "@bob:remote.test" {
					t.Fatalf("resynced %s", u)
				}
			case <-deadline:
				t.Fatalf("attempt %d never came", attempt+1)
			}
		}
	})
}

// TestResyncQueueNext: the worker sleeps until the earliest retry; parked
// users (out of attempts) never wake it.
func TestResyncQueueNext(t *testing.T) {
	q := newResyncQueue()
	now := time.Unix(1000, 0)
	if _, ok := q.next(); ok {
		t.Fatal("empty queue has a due time")
	}
	q.add("@a:x", now)
	q.add("@b:x", now)
	q.due(now)
	q.failed("@a:x", 2, time.Second, now) // due in 4s
	q.failed("@b:x", 0, time.Second, now) // due in 1s
	if at, ok := q.next(); !ok || !at.Equal(now.Add(time.Second)) {
		t.Fatalf("next = %v %v, want %v", at, ok, now.Add(time.Second))
	}
	q.due(now.Add(time.Hour))
	q.failed("@a:x", maxResyncAttempts-1, time.Second, now) // parked
	if at, ok := q.next(); ok {
		t.Fatalf("a parked user wakes the worker at %v", at)
	}
}
