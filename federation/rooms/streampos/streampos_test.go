package streampos

import (
	"sync"
	"testing"
)

func TestCurrentAdvancesOverContiguousPrefix(t *testing.T) {
	a := New(10)
	r1 := a.Reserve(2) // 11-12
	r2 := a.Reserve(1) // 13
	r3 := a.Reserve(3) // 14-16
	steps := []struct {
		done *Reservation
		want int64
	}{
		{r3, 10}, // out of order: nothing visible yet
		{r2, 10},
		{r1, 16}, // the gap closes: everything visible at once
		{r1, 16}, // Done twice is harmless
	}
	for i, s := range steps {
		s.done.Done()
		if got := a.Current(); got != s.want {
			t.Fatalf("step %d: Current = %d, want %d", i, got, s.want)
		}
	}
	if r := a.Reserve(1); r.First != 17 {
		t.Fatalf("next reservation starts at %d, want 17", r.First)
	}
}

func TestChangedWakesWaiters(t *testing.T) {
	a := New(0)
	ch := a.Changed()
	r := a.Reserve(1)
	select {
	case <-ch:
		t.Fatal("woke before anything finished")
	default:
	}
	r.Done()
	<-ch
}

func TestConcurrentReservations(t *testing.T) {
	a := New(0)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			for range 100 {
				a.Reserve(2).Done()
			}
		})
	}
	wg.Wait()
	if got := a.Current(); got != 10000 {
		t.Fatalf("Current = %d, want 10000", got)
	}
}
