// Package streampos allocates Kabar's global stream positions: the single
// ordering /sync delivers everything in (DESIGN "What makes it fast").
//
// Writers reserve positions before they commit and report when the commit
// is over. Transactions may commit out of order (PostgreSQL), so readers must
// not see position 7 before 6 is durable, or a sync at 7 would miss 6
// forever. The allocator therefore advances Current only over the contiguous
// prefix of finished reservations. It is in-process: one Kabar process owns
// the database.
package streampos

import (
	"sync"
)

// Allocator hands out positions. Safe for concurrent use.
type Allocator struct {
	mu      sync.Mutex
	next    int64           // first position of the next reservation
	current int64           // every position <= current is finished
	done    map[int64]int64 // finished reservations ahead of current: first -> last
	changed chan struct{}   // closed and replaced whenever current advances
}

// New continues after last, the highest position already stored.
func New(last int64) *Allocator {
	return &Allocator{next: last + 1, current: last, done: map[int64]int64{}, changed: make(chan struct{})}
}

// Reservation is a block of consecutive positions First..Last.
type Reservation struct {
	First, Last int64
	a           *Allocator
	once        sync.Once
}

// Reserve takes n (>= 1) consecutive positions. The caller must call Done
// exactly once, whether its transaction committed or not: an aborted
// reservation leaves a harmless gap.
func (a *Allocator) Reserve(n int) *Reservation {
	if n < 1 {
		n = 1
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	r := &Reservation{First: a.next, Last: a.next + int64(n) - 1, a: a}
	a.next = r.Last + 1
	return r
}

// Done marks the reservation finished; Current advances over it once every
// earlier reservation is finished too.
func (r *Reservation) Done() {
	r.once.Do(func() { r.a.finish(r.First, r.Last) })
}

func (a *Allocator) finish(first, last int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.done[first] = last
	advanced := false
	for {
		end, ok := a.done[a.current+1]
		if !ok {
			break
		}
		delete(a.done, a.current+1)
		a.current = end
		advanced = true
	}
	if advanced {
		close(a.changed)
		a.changed = make(chan struct{})
	}
}

// Current is the highest position readers may use: everything at or below
// it is durable.
func (a *Allocator) Current() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.current
}

// Changed returns a channel closed the next time Current advances, so a
// waiter can re-read Current without polling.
func (a *Allocator) Changed() <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.changed
}
