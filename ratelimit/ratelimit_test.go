package ratelimit

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// clock is a fake clock the tests advance by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestLimiter(t *testing.T, perSecond float64, burst, maxKeys int) (*Limiter, *clock) {
	t.Helper()
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	l, err := New(Options{PerSecond: perSecond, Burst: burst, MaxKeys: maxKeys, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return l, clk
}

func TestNewRejectsBadSettings(t *testing.T) {
	cases := []Options{
		{PerSecond: 0, Burst: 1},
		{PerSecond: -1, Burst: 1},
		{PerSecond: 1, Burst: 0},
		{PerSecond: 1, Burst: 1, MaxKeys: -1},
	}
	for _, opts := range cases {
		if _, err := New(opts); err == nil {
			t.Errorf("New(%+v) accepted bad settings", opts)
		}
	}
}

// step is one call in a scripted sequence: advance the clock, call Allow.
type step struct {
	advance time.Duration
	key     string
	allowed bool
	wait    time.Duration // expected when denied
}

func TestAllowSequences(t *testing.T) {
	cases := []struct {
		name      string
		perSecond float64
		burst     int
		steps     []step
	}{
		{"burst then deny", 1, 3, []step{
			{0, "a", true, 0}, {0, "a", true, 0}, {0, "a", true, 0},
			{0, "a", false, time.Second},
		}},
		{"refill one token", 2, 1, []step{
			{0, "a", true, 0}, {0, "a", false, 500 * time.Millisecond},
			{250 * time.Millisecond, "a", false, 250 * time.Millisecond},
			{250 * time.Millisecond, "a", true, 0},
		}},
		{"keys are independent", 1, 1, []step{
			{0, "a", true, 0}, {0, "b", true, 0}, {0, "a", false, time.Second}, {0, "b", false, time.Second},
		}},
		{"refill caps at burst", 10, 2, []step{
			{0, "a", true, 0}, {0, "a", true, 0},
			{time.Hour, "a", true, 0}, {0, "a", true, 0}, {0, "a", false, 100 * time.Millisecond},
		}},
		{"slow rate", 0.2, 1, []step{
			{0, "ip", true, 0}, {time.Second, "ip", false, 4 * time.Second},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, clk := newTestLimiter(t, tc.perSecond, tc.burst, 0)
			for i, s := range tc.steps {
				clk.Advance(s.advance)
				ok, wait := l.Allow(s.key)
				if ok != s.allowed {
					t.Fatalf("step %d (%s): allowed=%v, want %v", i, s.key, ok, s.allowed)
				}
				if !ok && (wait < s.wait-time.Millisecond || wait > s.wait+time.Millisecond) {
					t.Fatalf("step %d (%s): wait=%v, want %v", i, s.key, wait, s.wait)
				}
			}
		})
	}
}

func TestMemoryIsBounded(t *testing.T) {
	l, clk := newTestLimiter(t, 1, 5, 100)
	for i := range 10_000 {
		l.Allow(fmt.Sprintf("10.0.%d.%d", i/256, i%256))
	}
	if n := l.Len(); n != 100 {
		t.Fatalf("after a flood of distinct keys: %d buckets, want the cap 100", n)
	}
	// Idle buckets refill completely after burst/rate = 5s and are dropped.
	clk.Advance(5 * time.Second)
	l.Allow("fresh")
	if n := l.Len(); n != 1 {
		t.Fatalf("after idling: %d buckets, want 1", n)
	}
}

func TestEvictingIdleBucketsKeepsLimits(t *testing.T) {
	l, clk := newTestLimiter(t, 1, 2, 0)
	l.Allow("busy")
	l.Allow("busy")
	clk.Advance(1500 * time.Millisecond) // busy has 1.5 tokens: not idle
	for i := range 50 {
		l.Allow(fmt.Sprint("other", i))
	}
	if ok, _ := l.Allow("busy"); !ok {
		t.Fatal("busy should have one token left")
	}
	if ok, _ := l.Allow("busy"); ok {
		t.Fatal("busy's bucket was reset by eviction")
	}
}

func TestConcurrentUseAllowsExactlyBurst(t *testing.T) {
	l, _ := newTestLimiter(t, 1, 20, 0)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 8 {
		wg.Go(func() {
			for range 10 {
				if ok, _ := l.Allow("k"); ok {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if allowed != 20 {
		t.Fatalf("allowed %d of 80 concurrent requests, want the burst 20", allowed)
	}
}

func BenchmarkAllow(b *testing.B) {
	l, err := New(Options{PerSecond: 1e9, Burst: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			l.Allow(fmt.Sprint(i % 1000))
			i++
		}
	})
}
