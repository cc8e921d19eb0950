// Package ratelimit implements keyed token buckets with bounded memory: one
// bucket per key (a client IP, a user ID), refilled at a steady rate up to a
// burst. Kabar uses it for the client-server API's 429 M_LIMIT_EXCEEDED
// (client-server-api, "Rate limiting").
//
// Memory is bounded two ways: a bucket that has refilled to its burst is
// indistinguishable from a missing one and is dropped, and at most MaxKeys
// buckets are kept; past that, the least recently used bucket is dropped, so
// a flood of distinct keys costs constant memory.
package ratelimit

import (
	"container/list"
	"fmt"
	"math"
	"sync"
	"time"
)

// DefaultMaxKeys bounds the buckets kept when Options.MaxKeys is zero: about
// 2 MB at ~200 bytes a bucket. Only keys still refilling count (idle ones
// are dropped), so this is the number of distinct clients active within one
// refill period (burst/per_second) before the oldest lose their history.
const DefaultMaxKeys = 10_000

// Options configures a Limiter.
type Options struct {
	// PerSecond is the refill rate in tokens per second (> 0).
	PerSecond float64
	// Burst is the bucket size: how many requests may come at once (>= 1).
	Burst int
	// MaxKeys bounds memory; zero means DefaultMaxKeys.
	MaxKeys int
	// Now is the clock; nil means time.Now. Tests pass a fake clock.
	Now func() time.Time
}

// Limiter holds one token bucket per key. It is safe for concurrent use.
type Limiter struct {
	rate    float64
	burst   float64
	maxKeys int
	// idle is how long an untouched bucket takes to refill completely.
	idle time.Duration
	now  func() time.Time

	mu      sync.Mutex
	buckets map[string]*list.Element
	lru     *list.List // of *bucket; front = most recently used
}

type bucket struct {
	key    string
	tokens float64
	last   time.Time
}

// New returns a Limiter, or an error if the settings cannot describe a
// bucket.
func New(opts Options) (*Limiter, error) {
	if !(opts.PerSecond > 0) || math.IsInf(opts.PerSecond, 0) {
		return nil, fmt.Errorf("ratelimit: per_second must be a positive number, got %v", opts.PerSecond)
	}
	if opts.Burst < 1 {
		return nil, fmt.Errorf("ratelimit: burst must be at least 1, got %d", opts.Burst)
	}
	if opts.MaxKeys < 0 {
		return nil, fmt.Errorf("ratelimit: max keys must not be negative, got %d", opts.MaxKeys)
	}
	l := &Limiter{
		rate:    opts.PerSecond,
		burst:   float64(opts.Burst),
		maxKeys: opts.MaxKeys,
		now:     opts.Now,
		buckets: make(map[string]*list.Element),
		lru:     list.New(),
	}
	if l.maxKeys == 0 {
		l.maxKeys = DefaultMaxKeys
	}
	if l.now == nil {
		l.now = time.Now
	}
	l.idle = time.Duration(l.burst / l.rate * float64(time.Second))
	return l, nil
}

// Allow takes one token from key's bucket. When the bucket is empty it
// returns false and how long until a token is available.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.evictIdle(now)
	b := l.touch(key, now)
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = math.Min(l.burst, b.tokens+elapsed.Seconds()*l.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	if wait < time.Millisecond {
		wait = time.Millisecond
	}
	return false, wait
}

// Len reports how many buckets are held (for tests and metrics).
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// touch returns key's bucket, creating a full one if needed, and marks it
// most recently used. Creating past MaxKeys drops the least recently used.
func (l *Limiter) touch(key string, now time.Time) *bucket {
	if el, ok := l.buckets[key]; ok {
		l.lru.MoveToFront(el)
		return el.Value.(*bucket)
	}
	for len(l.buckets) >= l.maxKeys {
		l.remove(l.lru.Back())
	}
	b := &bucket{key: key, tokens: l.burst, last: now}
	l.buckets[key] = l.lru.PushFront(b)
	return b
}

// evictIdle drops buckets from the cold end that have had time to refill
// completely: they carry no information. The list is ordered by last use,
// so the scan stops at the first bucket that is still refilling.
func (l *Limiter) evictIdle(now time.Time) {
	for el := l.lru.Back(); el != nil; el = l.lru.Back() {
		if now.Sub(el.Value.(*bucket).last) < l.idle {
			return
		}
		l.remove(el)
	}
}

func (l *Limiter) remove(el *list.Element) {
	delete(l.buckets, el.Value.(*bucket).key)
	l.lru.Remove(el)
}
