package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer records what reaches the underlying writer, write by write.
type lockedBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writes++
	return b.buf.Write(p)
}

func (b *lockedBuffer) snapshot() (string, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String(), b.writes
}

func TestLogWriter(t *testing.T) {
	cases := []struct {
		name       string
		lines      int
		wait       time.Duration // before checking
		close      bool
		wantLines  int
		maxWrites  int
		wantWrites int // 0: only check maxWrites
	}{
		{"first line after quiet is immediate", 1, 0, false, 1, 1, 1},
		{"a burst is batched and flushed by the timer", 1000, 100 * time.Millisecond, false, 1000, 3, 0},
		{"close flushes the rest", 1000, 0, true, 1000, 3, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := &lockedBuffer{}
			lw := newLogWriter(out, 20*time.Millisecond)
			for i := range tc.lines {
				if n, err := lw.Write([]byte("line " + strings.Repeat("x", i%7) + "\n")); err != nil || n == 0 {
					t.Fatalf("write: %d %v", n, err)
				}
			}
			time.Sleep(tc.wait)
			if tc.close {
				lw.Close()
			}
			text, writes := out.snapshot()
			if got := strings.Count(text, "\n"); got != tc.wantLines {
				t.Fatalf("%d lines reached the output, want %d", got, tc.wantLines)
			}
			if writes > tc.maxWrites || (tc.wantWrites > 0 && writes != tc.wantWrites) {
				t.Fatalf("%d writes, want at most %d", writes, tc.maxWrites)
			}
			lw.Close()
		})
	}
}
