package e2ee

import (
	"fmt"
	"testing"
	"time"
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
