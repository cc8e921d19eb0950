package presence

import (
	"context"
	"slices"
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

// TestActiveWithoutSync: a user whose client sends events but never syncs
// (a bot posting into a room) comes online with the first event and stays
// online until OfflineAfter has passed since the last one: one change
// published for the burst, not an online/offline pair per message (each of
// which is an m.presence EDU to every server sharing a room).
func TestActiveWithoutSync(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	var published []string
	tr := New(Options{Enabled: true, IdleTimeout: 5 * time.Minute, OfflineAfter: time.Minute,
		Now:     func() time.Time { return now },
		Publish: func(_ context.Context, _ string, st Status, _ []string) { published = append(published, st.Presence) }})
	ctx := context.Background()
	// expireNow is one round of Run.
	expireNow := func() time.Time {
		changed, next := tr.expire()
		for _, u := range changed {
			tr.wake(ctx, u)
		}
		return next
	}
	for i := range 10 {
		tr.Active(ctx, "@bot:x")
		if next := expireNow(); !next.Equal(now.Add(time.Minute)) {
			t.Fatalf("message %d: next expiry %v, want a minute after it (%v)", i, next, now.Add(time.Minute))
		}
		if got := tr.Get("@bot:x").Presence; got != Online {
			t.Fatalf("message %d: %s, want online", i, got)
		}
		now = now.Add(10 * time.Second)
	}
	now = now.Add(time.Minute)
	expireNow()
	if want := []string{Online, Offline}; !slices.Equal(published, want) {
		t.Errorf("published %v, want %v", published, want)
	}
}
