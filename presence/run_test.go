package presence

import (
	"context"
	"testing"
	"time"
)

// TestRunWakesOnChange: Run sleeps while nobody can expire (no timer
// shorter than its ten-minute safety net), a user coming online rings it,
// and it expires them when their idle timeout passes.
func TestRunWakesOnChange(t *testing.T) {
	woken := make(chan string, 16)
	tr := New(Options{Enabled: true, IdleTimeout: 100 * time.Millisecond, OfflineAfter: time.Hour,
		Wake: func(u ...string) { woken <- u[0] }})
	if changed, next := tr.expire(); len(changed) != 0 || !next.IsZero() {
		t.Fatalf("idle tracker: changed %v, next expiry %v", changed, next)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- tr.Run(ctx) }()
	defer func() { cancel(); <-done }()
	start := time.Now()
	tr.Synced(ctx, "@a:x", "")
	deadline := time.After(10 * time.Second)
	for tr.Get("@a:x").Presence != Unavailable {
		select {
		case <-woken:
		case <-deadline:
			t.Fatalf("still %s after 10s: Run was not woken", tr.Get("@a:x").Presence)
		}
	}
	if elapsed := time.Since(start); elapsed < 100*time.Millisecond {
		t.Errorf("unavailable after %v, before the idle timeout", elapsed)
	}
	if _, next := tr.expire(); next.IsZero() {
		t.Error("an unavailable user has no offline expiry")
	}
}
